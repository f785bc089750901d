"""Inference on new studies: pick the sagittal T2 series, localise the discs, grade them."""
