"""Local test worlds (AWS stand-in, Kubernetes stand-in, VM test bed, twin). Never shipped, never imported by the collection."""
