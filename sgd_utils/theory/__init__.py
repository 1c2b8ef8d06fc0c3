"""Theory: what the mathematics predicts, as plain functions of numbers and arrays.

Nothing here runs an optimizer or a training loop; chapters compare these predictions with runs.

- :mod:`.rates`: convergence rates of gradient descent, the heavy ball and Nesterov on quadratics,
  and their optimal and critical settings (chapters 1 and 3).
- :mod:`.noise`: mini-batch gradient noise, the finite-population factor and the noise scale
  (chapters 2 and 8).
- :mod:`.least_squares`: SGD on least squares solved exactly: the moment kernel of the data, the
  expected loss under any schedule, the noise floor and the stability limit (chapters 2, 4, 10).
- :mod:`.asymptotics`: small-step and :math:`1/t` predictions near an optimum (chapter 10).
- :mod:`.workers`: staleness and gossip: delay polynomials, critical learning rates, mixing rates
  (chapter 11).
"""
