"""DLDL-v2 stage: label distributions, the training helpers of age and attractiveness nets, ensembles."""
