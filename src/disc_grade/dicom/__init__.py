"""DICOM headers, geometry, slice order and ROI cropping; nothing here knows Kedro."""
