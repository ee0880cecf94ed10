"""Image networks that more than one stage builds on (the swap's perceptual loss, the classifiers).

Plain architectures and their weight loading only: no plugin registration (the families that
offer them register their own wrappers) and no face or classifier code.
"""
