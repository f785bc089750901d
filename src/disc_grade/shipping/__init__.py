"""A trained model as one thing to hand on: the bundle, its model card, its checks."""
