"""The simulated direct-to-consumer apparel and intimates brand, with its hidden truth."""

from features.simulate.fit import fit_probabilities, fit_return_probability
from features.simulate.oracles import churn_oracle, oracle, value_oracle
from features.simulate.simulator import TRUTH_TABLES, SimulatedData, simulate

__all__ = [
    "TRUTH_TABLES",
    "SimulatedData",
    "churn_oracle",
    "fit_probabilities",
    "fit_return_probability",
    "oracle",
    "simulate",
    "value_oracle",
]
