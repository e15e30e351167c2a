"""Energy models (`PLATFORMS`; pass your own constants with ``constants={...}``):

* ``digital45``: a sparsity-aware digital accelerator at 45 nm: every effective MAC costs a
  32-bit float multiply plus add, every effective AC a float add (Horowitz, ISSCC 2014).
* ``gpu_dense``: the same arithmetic prices, but every synapse is computed at every step,
  zero or not, as a GPU executes an SNN (dense matrix products over all T steps).
* ``a100``: ``gpu_dense`` priced at an NVIDIA A100's board power per peak FP32 operation
  (400 W / 19.5 TFLOP/s; NVIDIA A100 datasheet, 2020): a lower bound for real runs on that GPU.
* ``loihi``: Intel Loihi's pre-silicon energy figures (Davies et al., IEEE Micro 38(1), 2018,
  Table 2): per synaptic spike op, per synaptic update, per neuron update (active/inactive),
  per spike and per tile hop. Spiking networks only.

The counts priced here are `labkit.energy.count_ops`'s, which implements NeuroBench's
definitions itself, so pricing needs no NeuroBench. NeuroBench 2.3 does install beside the
lab's torch (``pip install --no-deps neurobench==2.3.0``, as scripts/setup.sh does: its
declared torch and torchaudio pins would replace the lab's torch), and
tests/test_interop_neurobench.py checks that its own metrics equal ``count_ops`` on a trained
network (`labkit.interop.neurobench` makes the network visible to its hooks).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import ClassVar, Mapping

from ..foundation.validation import check_number
from .counts import OpCounts

__all__ = ["A100", "A100Model", "DAVIES", "DEFAULT_PLATFORMS", "DenseModel", "DigitalModel", "EnergyModel", "HOROWITZ", "LoihiModel", "MAC_45NM", "NEURON_UPDATE_45NM", "PJ", "PLATFORMS", "make_platform"]


PJ = 1e-12  # joules per picojoule


def _pj(default: float, source: str):
    """A per-operation energy in picojoules, with the source it comes from."""
    return field(default=default, metadata={"unit": "pJ", "source": source})


HOROWITZ = "Horowitz, ISSCC 2014, 45 nm, 0.9 V"


DAVIES = "Davies et al., IEEE Micro 38(1) 2018, Table 2 (pre-silicon SDF/SPICE simulation)"


#: (pJ, source) of the 45 nm costs shared by the event-driven and the dense digital models.
MAC_45NM = (4.6, f"{HOROWITZ}: fp32 multiply 3.7 pJ + add 0.9 pJ")


NEURON_UPDATE_45NM = (
    9.2, f"{HOROWITZ}: 2 fp32 multiplies + 2 adds, NeuroBench's 4-operation LIF update (Yik et al., 2025)"
)


A100 = "NVIDIA A100 datasheet 2020: 400 W board power (SXM) / 19.5 TFLOP/s peak FP32"


@dataclass(frozen=True)
class EnergyModel:
    """Base of the energy models: constants are picojoules per operation, all finite and >= 0."""
    name: ClassVar[str] = "model"
    description: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ("ann", "snn")

    def __post_init__(self) -> None:
        for f in fields(self):
            check_number(f"{type(self).__name__}.{f.name}", getattr(self, f.name), minimum=0.0,
                         unit=f.metadata.get("unit") or None)

    @classmethod
    def constants(cls) -> tuple[str, ...]:
        """Names of the constants this model accepts."""
        return tuple(f.name for f in fields(cls))

    def sources(self) -> dict[str, str]:
        """Each constant with its value, unit and source, for display."""
        return {
            f.name: f"{getattr(self, f.name):g} {f.metadata.get('unit', '')}".strip() + f" ({f.metadata['source']})"
            for f in fields(self)
        }

    def applies_to(self, kind: str) -> bool:
        return kind in self.kinds

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        """Energy per inference in joules, by cause."""
        raise NotImplementedError


@dataclass(frozen=True)
class DigitalModel(EnergyModel):
    """Sparsity-aware digital hardware at 45 nm: it skips zero inputs and zero weights.

    E = Effective_MACs · e_mac + Effective_ACs · e_ac + neuron updates · e_neuron.
    """
    name: ClassVar[str] = "digital45"
    description: ClassVar[str] = "event-driven digital, 45 nm (skips zeros)"

    e_mac_pj: float = _pj(*MAC_45NM)
    e_ac_pj: float = _pj(0.9, f"{HOROWITZ}: fp32 add")
    e_neuron_pj: float = _pj(*NEURON_UPDATE_45NM)

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        return {
            "MACs": counts.effective_macs * self.e_mac_pj * PJ,
            "ACs": counts.effective_acs * self.e_ac_pj * PJ,
            "neuron updates": counts.neuron_updates * self.e_neuron_pj * PJ,
        }


@dataclass(frozen=True)
class DenseModel(EnergyModel):
    """Dense hardware, as a GPU runs a network: every synapse at every step is a MAC.

    E = Dense · e_mac + neuron updates · e_neuron. A GPU multiplies a spike (0 or 1) by its
    weight like any other number, so an SNN pays T times the ANN's synaptic work.
    """
    name: ClassVar[str] = "gpu_dense"
    description: ClassVar[str] = "dense execution (GPU-style), 45 nm arithmetic"

    e_mac_pj: float = _pj(*MAC_45NM)
    e_neuron_pj: float = _pj(*NEURON_UPDATE_45NM)

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        return {
            "MACs (dense)": counts.dense * self.e_mac_pj * PJ,
            "neuron updates": counts.neuron_updates * self.e_neuron_pj * PJ,
        }


@dataclass(frozen=True)
class A100Model(DenseModel):
    """Dense execution priced at an NVIDIA A100's board power per peak FP32 operation.

    400 W / 19.5e12 FLOP/s = 20.5 pJ per FLOP, so 41.0 pJ per MAC (2 FLOP) and 82.1 pJ per
    4-operation neuron update. Real inference of a small network runs far below peak
    throughput while the board still draws power, so real energy per operation is higher:
    this is a lower bound for the A100.
    """
    name: ClassVar[str] = "a100"
    description: ClassVar[str] = "dense execution at A100 board power per peak FP32 op (lower bound)"

    e_mac_pj: float = _pj(41.0, f"{A100}: 2 FLOP × 20.5 pJ/FLOP")
    e_neuron_pj: float = _pj(82.1, f"{A100}: 4 FLOP × 20.5 pJ/FLOP")


@dataclass(frozen=True)
class LoihiModel(EnergyModel):
    """Intel Loihi (14 nm), from the per-operation figures of Davies et al. (2018), Table 2.

    E = synaptic spike ops · e_sop + active neuron updates · e_neuron_active
        + inactive neuron updates · e_neuron_inactive + synaptic updates · e_syn_update
        + routed spikes · (e_spike + hops_per_spike · e_hop)

    Synaptic spike ops are NeuroBench's Effective_ACs (each spike × its non-zero fan-out).
    ``hops_per_spike`` is an assumption about the placement of layers on cores, not a
    measurement: 1.0 puts consecutive layers on neighbouring tiles.
    Table 2's figures are simulations consistent with early silicon, the minimum energy per
    synaptic op, not a measured workload.
    """
    name: ClassVar[str] = "loihi"
    description: ClassVar[str] = "Intel Loihi, per-operation energies (spiking networks only)"
    kinds: ClassVar[tuple[str, ...]] = ("snn",)

    e_sop_pj: float = _pj(23.6, f"{DAVIES}: energy per synaptic spike op (min)")
    e_syn_update_pj: float = _pj(120.0, f"{DAVIES}: energy per synaptic update (pairwise STDP)")
    e_neuron_active_pj: float = _pj(81.0, f"{DAVIES}: energy per neuron update, active")
    e_neuron_inactive_pj: float = _pj(52.0, f"{DAVIES}: energy per neuron update, inactive")
    e_spike_pj: float = _pj(1.7, f"{DAVIES}: within-tile spike energy")
    e_hop_pj: float = _pj(3.0, f"{DAVIES}: energy per tile hop, E-W (N-S: 4.0 pJ)")
    hops_per_spike: float = field(
        default=1.0, metadata={"unit": "hops", "source": "assumption: consecutive layers on neighbouring tiles"}
    )

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        if counts.effective_macs > 0:
            raise ValueError(
                "the Loihi model prices spike-driven synaptic ops only, but these counts have "
                f"{counts.effective_macs:.3g} Effective_MACs (non-binary layer inputs); feed the network spikes"
            )
        inactive = counts.neuron_updates - counts.active_neuron_updates
        return {
            "synaptic ops": counts.effective_acs * self.e_sop_pj * PJ,
            "neuron updates": (counts.active_neuron_updates * self.e_neuron_active_pj
                               + inactive * self.e_neuron_inactive_pj) * PJ,
            "spike routing": counts.routed_spikes * (self.e_spike_pj + self.hops_per_spike * self.e_hop_pj) * PJ,
            "synaptic updates": counts.synaptic_updates * self.e_syn_update_pj * PJ,
        }


@dataclass(frozen=True)
class DigitalInt8Model(DigitalModel):
    """`DigitalModel` with 8-bit integer arithmetic, as Loihi's 8-bit weights and a quantised ANN use.

    E = Effective_MACs · e_mac + Effective_ACs · e_ac + neuron updates · e_neuron, at Horowitz's 8-bit
    integer prices (multiply 0.2 pJ, add 0.03 pJ). The like-for-like answer to "is the 8-bit SNN of a
    neuromorphic chip cheaper than an int8 ANN?" on the same process.
    """
    name: ClassVar[str] = "digital45_int8"
    description: ClassVar[str] = "event-driven digital, 45 nm, 8-bit integer arithmetic (skips zeros)"

    e_mac_pj: float = _pj(0.23, f"{HOROWITZ}: 8-bit multiply 0.2 pJ + 8-bit add 0.03 pJ")
    e_ac_pj: float = _pj(0.03, f"{HOROWITZ}: 8-bit add")
    e_neuron_pj: float = _pj(0.46, f"{HOROWITZ}: 2 8-bit multiplies + 2 adds (the 4-operation LIF update)")


#: Horowitz's figure for reading memory next to the arithmetic (the sensitivity row's per-event cost).
SRAM_READ_45NM = (5.0, f"{HOROWITZ}: 64-bit read from an 8 KB SRAM 10 pJ, so 5 pJ per 32-bit weight")


@dataclass(frozen=True)
class DigitalMemoryModel(DigitalModel):
    """`DigitalModel` plus one weight read from a small local SRAM per synaptic event (a sensitivity row).

    E = (Effective_MACs + Effective_ACs) · e_read + the `DigitalModel` terms. Arithmetic alone leaves out
    the cost of fetching each weight; at 45 nm a read from an 8 KB SRAM costs more than the fp32 add it
    feeds, so this row shows which way memory moves the ANN/SNN comparison (it multiplies the cost of every
    event, and the SNN has about 17× the ANN's events at T = 25). DRAM (1.3–2.6 nJ per 64 bits) would move
    it much further; neither network's 1.6 MB of fp32 weights fits an 8 KB SRAM, so 5 pJ is a floor.
    """
    name: ClassVar[str] = "digital45_mem"
    description: ClassVar[str] = "event-driven digital, 45 nm, plus one 32-bit SRAM weight read per synaptic event"

    e_read_pj: float = _pj(*SRAM_READ_45NM)

    def breakdown(self, counts: OpCounts) -> dict[str, float]:
        return {**super().breakdown(counts),
                "weight reads": (counts.effective_macs + counts.effective_acs) * self.e_read_pj * PJ}


#: The built-in energy models by name.
PLATFORMS: dict[str, type[EnergyModel]] = {
    m.name: m for m in (DigitalModel, DenseModel, A100Model, LoihiModel, DigitalInt8Model, DigitalMemoryModel)
}


#: The platforms of the lab's Table II (the 8-bit and memory rows are added where they are asked for).
DEFAULT_PLATFORMS: tuple[str, ...] = ("digital45", "gpu_dense", "a100", "loihi")


def make_platform(
    platform: str | EnergyModel = "digital45", constants: Mapping[str, float] | None = None
) -> EnergyModel:
    """An energy model by name (see `PLATFORMS`) or as given, with ``constants`` overriding its values.

    Raises:
        ValueError: unknown platform or constant name, or a constant that is negative or not finite.
    """
    if isinstance(platform, EnergyModel):
        model = platform
    elif isinstance(platform, str) and platform in PLATFORMS:
        model = PLATFORMS[platform]()
    else:
        raise ValueError(f"unknown platform {platform!r}: use one of {sorted(PLATFORMS)} or an EnergyModel instance")
    if constants:
        unknown = sorted(set(constants) - set(model.constants()))
        if unknown:
            raise ValueError(
                f"unknown constant(s) {unknown} for platform {model.name!r}: it accepts {list(model.constants())}"
            )
        model = replace(model, **dict(constants))
    return model
