"""Reading sources into the warehouse: adapters, column mappings and the warehouse itself."""
