"""What a trained grader's output becomes: predictions, calibration fitted on validation, the
rule that calls a grade, the study-context head, and Grad-CAM."""
