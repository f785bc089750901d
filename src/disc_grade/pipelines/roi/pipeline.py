"""ROI: ``discs`` + images -> ``disc_rois`` [N, 3, H, W] float16, ``roi_index``, exclusions, gallery."""

from kedro.pipeline import Node, Pipeline

from disc_grade.pipelines.roi.nodes import extract_disc_rois, plot_roi_gallery


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                extract_disc_rois,
                ["discs", "series", "train_images", "params:roi"],
                ["disc_rois", "roi_index", "roi_exclusions"],
                name="extract_disc_rois",
            ),
            Node(
                plot_roi_gallery, ["disc_rois", "roi_index"], "roi_gallery", name="plot_roi_gallery"
            ),
        ]
    )
