"""The datasets every condition reads, outside its namespace."""

# shared by every condition's rois and condition pipelines (never namespaced)
SHARED = {
    "train_labels",
    "label_coordinates",
    "series_descriptions",
    "series",
    "dicom_index",
    "train_images",
    "study_splits",
    "landmarks",
    "phantom_truth",
    "label_priors",
}
