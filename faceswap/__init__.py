"""Face-swap video pipeline: extract faces, train a shared-encoder autoencoder, convert video."""

__version__ = "0.1.0"
