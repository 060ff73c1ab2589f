"""Examples of each defect: a recipe's defect classes carry images that reach the model after
the good references, within the prompt budget checked when the recipe loads."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import tests.support.scripted_judge  # noqa: F401 - registers the scripted engine
from inspector.errors import InputError
from inspector.judges import build_chain
from inspector.judges.answers import BoxConvention
from inspector.judges.privacy import outbound
from inspector.judges.prompt import ImagePart, TextPart, build_prompt, read_examples
from inspector.recipes import Privacy, load_recipe
from tests.support.recipes import recipe_file


def _write_examples(folder):
    scratch = np.full((120, 160, 3), 90, np.uint8)
    scratch[50:54, 20:140] = 230
    cv2.imwrite(str(folder / "scratch-1.png"), scratch)
    short = np.full((100, 100), 60, np.uint8)
    cv2.imwrite(str(folder / "short-1.png"), short)
    return scratch, short


def _recipe(tmp_path, engines=None, **fields):
    _write_examples(tmp_path)
    defects = [
        {
            "name": "scratch",
            "severity": "major",
            "examples": [{"image": "scratch-1.png", "box": [18, 48, 142, 56]}],
        },
        {"name": "short", "severity": "critical", "examples": [{"image": "short-1.png"}]},
    ]
    engines = engines or [{"engine": "scripted"}]
    return recipe_file(tmp_path, engines, defects=defects, **fields)


def test_the_examples_follow_the_references_labelled_and_the_part_comes_last(tmp_path):
    recipe = load_recipe(_recipe(tmp_path))
    scratch = cv2.imread(str(tmp_path / "scratch-1.png"))
    examples = read_examples(recipe)
    from inspector.judges.prompt import Reference

    good = np.full((200, 300, 3), 128, np.uint8)
    part = np.full((200, 300, 3), 129, np.uint8)
    prompt = build_prompt(
        recipe, part, [Reference.of(good)], BoxConvention.XYXY_1000, examples=examples
    )
    roles = [p.role for p in prompt.parts if isinstance(p, ImagePart)]
    assert roles == ["reference", "example", "example", "part"]
    texts = [p.text for p in prompt.parts if isinstance(p, TextPart)]
    assert "Example of scratch (major), outlined in cyan:" in texts
    assert "Example of short (critical):" in texts
    shown = [p.image for p in prompt.parts if isinstance(p, ImagePart) and p.role == "example"]
    # The box is outlined in cyan on the scratch example; the rest of the image is untouched.
    assert (shown[0][48, 60] == (255, 255, 0)).all()
    assert np.array_equal(shown[0][70:, :], scratch[70:, :])
    assert shown[1].shape == (100, 100)  # read as the file is: grey
    # The examples are part of the question asked: they change the prompt's hash.
    plain = build_prompt(recipe, part, [Reference.of(good)], BoxConvention.XYXY_1000)
    assert plain.sha256() != prompt.sha256()


def test_the_scripted_engine_is_shown_the_examples(tmp_path):
    path = _recipe(tmp_path)
    chain = build_chain(load_recipe(path), str(path))
    judge = chain.judges[0]
    seen = []
    generate = judge._generate

    def keep(prompt, convention):
        seen.append(prompt)
        return generate(prompt, convention)

    judge._generate = keep
    chain.judge(np.zeros((64, 64, 3), np.uint8))
    [prompt] = seen
    assert [p.role for p in prompt.images] == ["example", "example", "part"]


def test_examples_leave_the_site_only_as_references_may(tmp_path):
    recipe = load_recipe(_recipe(tmp_path))
    prompt = build_prompt(
        recipe,
        np.zeros((64, 64, 3), np.uint8),
        [],
        BoxConvention.XYXY_1000,
        examples=read_examples(recipe),
    )
    kept = outbound(prompt, Privacy(images_may_leave=True))
    assert [p.role for p in kept.images] == ["part"]
    assert not any("Example of" in p.text for p in kept.parts if isinstance(p, TextPart))
    allowed = outbound(prompt, Privacy(images_may_leave=True, references_may_leave=True))
    assert [p.role for p in allowed.images] == ["example", "example", "part"]


def test_a_missing_example_is_named_at_load(tmp_path):
    path = _recipe(tmp_path)
    (tmp_path / "short-1.png").unlink()
    with pytest.raises(InputError, match=r"defects\.1\.examples\.0\.image`: no image at"):
        load_recipe(path)


def test_examples_beyond_the_model_s_context_are_refused_at_load(tmp_path):
    budget = {"context_tokens": 4096, "tokens_per_image": 1280}
    with pytest.raises(InputError, match=r"about \d+ tokens .*2 defect examples.* context of 4096"):
        load_recipe(_recipe(tmp_path, budget=budget))
    fits = load_recipe(_recipe(tmp_path, budget={**budget, "tokens_per_image": 256}))
    assert fits.budget.tokens_per_image == 256


def test_a_recipe_without_examples_keeps_its_recorded_text(tmp_path):
    recipe = load_recipe(recipe_file(tmp_path, [{"engine": "scripted"}]))
    text = recipe.to_yaml()
    assert "examples" not in text and "budget" not in text and "zoom" not in text


def test_the_example_images_reach_a_real_model(tiny_models, tmp_path):
    import torch

    from tests.support.tiny_models import image_token_id

    torch.set_num_threads(1)
    engine = {"engine": "transformers", "model": str(tiny_models["gemma3"]), "max_new_tokens": 4}
    path = _recipe(tmp_path, [engine])
    recipe = load_recipe(path)
    judge = build_chain(recipe, str(path)).judges[0]
    judge.load()
    part = np.full((64, 64, 3), 100, np.uint8)
    with_examples = judge.encode(
        build_prompt(recipe, part, [], judge.box_convention(), examples=read_examples(recipe))
    )
    without = judge.encode(build_prompt(recipe, part, [], judge.box_convention()))
    image_id = image_token_id(judge._processor)
    count = int((with_examples["input_ids"] == image_id).sum())
    assert count == 3 * int((without["input_ids"] == image_id).sum())  # two examples, the part


def test_many_golden_images_without_examples_need_no_budget(tmp_path):
    good = np.full((32, 32, 3), 128, np.uint8)
    references = []
    for i in range(40):  # a reference screen's golden set: no model context to fit
        cv2.imwrite(str(tmp_path / f"good-{i}.png"), good)
        references.append(f"good-{i}.png")
    path = recipe_file(tmp_path, [{"engine": "reference"}], references=references)
    assert len(load_recipe(path).references) == 40
    budget = {"context_tokens": 32768}
    with pytest.raises(InputError, match="40 references"):
        load_recipe(
            recipe_file(tmp_path, [{"engine": "reference"}], references=references, budget=budget)
        )
