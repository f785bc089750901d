"""Networks, losses and augmentations: the parts a grader and its training are built from."""
