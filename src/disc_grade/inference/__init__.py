"""Inference on new studies, every condition: each condition's series chosen, its targets found
by its localiser, cropped by the training cropper and graded by the grader validation chose
(``grade_points``), the joint head and the warning for studies unlike the training data, then
the 25 rows of the submission per study and a figure per study."""
