"""Neural networks on MNIST, in NumPy.

- :mod:`.data`: MNIST: the bundled sample of 10,000 real digits, and the full set on demand.
- :mod:`.mlp`: a multilayer perceptron with fast vectorised backpropagation.
- :mod:`.backprop`: the same backpropagation as the equations say it, the readable reference
  the book quotes.
- :mod:`.gradcheck`: gradients checked against central finite differences.
- :mod:`.train`: the mini-batch training loop, :func:`~sgd_utils.nn.train.fit` (one epoch is
  :func:`~sgd_utils.nn.train.train_epoch`), and its history.
"""
