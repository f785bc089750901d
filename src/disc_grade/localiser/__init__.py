"""The one heatmap localiser, for every condition: per series a grid of slices, a UNet of
heatmaps and presence, and the choice of slice and point per target (the canal's five points on
a sagittal T2 series, each foramen's on a sagittal T1 series, each recess's on the axial T2 slice
through its level), with the error report against the readers' points."""
