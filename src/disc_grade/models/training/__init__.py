"""The one training loop and what it keeps: devices, batches, checkpoints keyed by their inputs,
curves, contrastive pretraining, fine-tuning, the encoder probe and the pretraining ablation."""
