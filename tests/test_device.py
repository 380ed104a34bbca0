"""Device selection: one place decides, CUDA availability monkeypatched."""

from __future__ import annotations

import pytest

from synthdata.errors import DeviceError, ParameterError
from synthdata.synthesizers import _sdv, base, get_synthesizer
from synthdata.synthesizers.base import resolve_device


def test_auto_picks_cuda_when_available(monkeypatch):
    monkeypatch.setattr(base, "cuda_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda") == "cuda"
    assert resolve_device("cpu") == "cpu"


def test_auto_falls_back_to_cpu(monkeypatch):
    monkeypatch.setattr(base, "cuda_available", lambda: False)
    assert resolve_device("auto") == "cpu"


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(base, "cuda_available", lambda: False)
    with pytest.raises(DeviceError, match="use --device auto or --device cpu"):
        resolve_device("cuda")


def test_unknown_device():
    with pytest.raises(ParameterError, match="Got 'gpu' instead"):
        resolve_device("gpu")


@pytest.mark.parametrize("name", ["ctgan", "tvae"])
@pytest.mark.parametrize(("device", "gpu"), [("cuda", True), ("cpu", False)])
def test_backends_pass_the_resolved_device_to_sdv(schema, name, device, gpu):
    from sdv.metadata import Metadata

    synth = get_synthesizer(name, schema, epochs=1)
    model = synth._make_model(
        Metadata.load_from_dict(_sdv.sdv_metadata_dict(schema)), synth.get_params(), device
    )
    assert model.enable_gpu is gpu


@pytest.mark.parametrize(("cuda", "expected"), [(True, "cuda"), (False, "cpu")])
def test_fit_hands_the_resolved_device_to_the_backend(monkeypatch, small_typed, schema, cuda,
                                                      expected):
    """auto -> cuda when available, and that is what the SDV model is built with."""
    from synthdata.synthesizers.tvae import TVAE

    seen = []
    original = TVAE._make_model

    def spy(self, metadata, params, device):
        seen.append(device)
        return original(self, metadata, params, device)

    monkeypatch.setattr(base, "cuda_available", lambda: cuda)
    monkeypatch.setattr(TVAE, "_make_model", spy)
    synth = get_synthesizer("tvae", schema, epochs=1, batch_size=100, device="auto")
    synth.fit(small_typed.head(200))
    assert seen == [expected]
    assert synth.device_ == expected


@pytest.mark.gpu
def test_fit_on_cuda(small_typed, schema):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    synth = get_synthesizer("ctgan", schema, epochs=1, batch_size=100, device="cuda")
    synth.fit(small_typed.head(200))
    assert synth.device_ == "cuda"
    assert len(synth.sample(50)) == 50
