"""One condition pipeline for every condition, its variants' namespaces, and the train pipeline
(what the train pipeline writes when it runs: ``test_train_end_to_end.py``)."""

from __future__ import annotations

from disc_grade.conditions import CONDITION_NAMES
from disc_grade.pipelines.condition.grade import VARIANTS
from disc_grade.pipelines.condition.pipeline import condition_pipeline, for_condition


def _own_datasets(name: str) -> set[str]:
    """Every dataset of a condition's namespace, the namespace stripped."""
    pipeline = for_condition(name)
    names = pipeline.all_inputs() | pipeline.all_outputs()
    return {d.removeprefix(f"{name}.") for d in names if d.startswith(f"{name}.")}


def test_every_condition_has_the_same_datasets_under_its_own_namespace():
    first, *others = CONDITION_NAMES
    assert len(_own_datasets(first)) > 40
    for other in others:
        assert _own_datasets(other) == _own_datasets(first), other
    # one definition: every condition is the same modular pipeline under its namespace
    base = {n.name for n in condition_pipeline().nodes}
    for name in CONDITION_NAMES:
        assert {n.name.removeprefix(f"{name}.") for n in for_condition(name).nodes} == base
        assert {n.namespace.split(".")[0] for n in for_condition(name).nodes} == {name}


def test_a_conditions_parameters_are_its_own_block():
    for name in CONDITION_NAMES:
        params = {i for n in for_condition(name).nodes for i in n.inputs if i.startswith("params:")}
        assert params and all(p.startswith(f"params:{name}.") for p in params), params


def test_every_variant_is_fine_tuned_by_one_node_with_its_own_settings():
    pipeline = for_condition("foraminal")
    nodes = [n for n in pipeline.nodes if n.name == "foraminal.finetune_variants"]
    assert len(nodes) == 1
    assert {"foraminal.grader_models", "foraminal.variant_predictions"} <= set(nodes[0].outputs)
    assert {f"foraminal.{v}.training_curve" for v in VARIANTS} <= set(nodes[0].outputs)
    assert "foraminal.recipe" in nodes[0].inputs  # the variants' settings, parsed once
    (settings,) = [n for n in pipeline.nodes if "foraminal.recipe" in n.outputs]
    assert "params:foraminal.finetuning_variants" in settings.inputs
    outputs = [o for n in pipeline.nodes for o in n.outputs]
    assert len(outputs) == len(set(outputs)), "no output is shared between nodes"


def test_train_is_the_default_and_never_contains_the_phantom():
    from kedro.framework.project import configure_project, pipelines

    configure_project("disc_grade")
    train = pipelines["train"]
    names = {n.name for n in train.nodes}
    assert "make_phantom_cohort" not in names
    assert {"scan_dicom_headers", "split_studies", "write_report"} <= names
    for name in CONDITION_NAMES:
        assert {f"{name}.align_condition", f"{name}.finetune_variants"} <= names
    assert pipelines["__default__"].nodes == train.nodes


def test_a_condition_hands_on_only_what_the_next_stages_read():
    """Every dataset a condition writes is read inside it or by a later stage, so that kedro-viz
    opens with each condition collapsed to the few datasets it hands on (the browser test checks
    the screen itself where Chromium is installed)."""
    from kedro.framework.project import configure_project, pipelines

    configure_project("disc_grade")
    free = sorted(o for o in pipelines["train"].outputs() if o.split(".")[0] in CONDITION_NAMES)
    assert not free, f"read by no node: {free}"
