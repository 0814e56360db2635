"""Journey data: the contract, loaders, the simulator and point-in-time feature builders."""
