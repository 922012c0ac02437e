"""LNet stage: the response-map localizer, its fitting on tune scenes, the LNet_o -> LNet_s cascade, map pictures."""
