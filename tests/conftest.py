"""Settings shared by the whole test suite."""
from hypothesis import settings

# `make test` (and so CI) runs the property tests with `--hypothesis-profile=reproducible`: a
# fixed sequence of examples, so that the verdict of a run does not depend on a random draw.
# Plain `pytest` keeps drawing new examples; a case it finds belongs in the test, as in
# test_optim_properties.test_pytorch_momentum_equals_sutskevers_at_a_constant_lr.
settings.register_profile("reproducible", derandomize=True)
