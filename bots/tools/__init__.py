"""Tools for organisers around the flows: editor schemas, flow diagrams, test coverage."""
