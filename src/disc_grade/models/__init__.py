"""Encoder, heads, losses, augmentations and the one training loop; models see tensors, not files."""
