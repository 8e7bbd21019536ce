"""What scripts/fuzz_sources.py damages: the real recordings of ../shared/realdata a reader converts, the files of
each to damage, and the bounded run's picks (tests/test_fuzz.py)."""

from __future__ import annotations

from dataclasses import dataclass

OE = "openephys_binary/aind_np_multiexp"
OE_EXP = "Record Node 101/experiment1/recording1"
OE_PROBE, OE_TTL = f"{OE_EXP}/continuous/Neuropix-PXI-100.ProbeB", f"{OE_EXP}/events/NI-DAQmx-103.PXIe-6341/TTL"
OE_SE = "Record Node 105/experiment1/recording1"
OE_SPIKES = f"{OE_SE}/spikes/Spike_Detector-104.example_data/Stereotrode 1"
OE_LEGACY = "Record Node 101/100_example-data"
SGLX, NIDQ = "Real_g0/Real_g0_imec0/Real_g0_t0.imec0", "Real_g0/Real_g0_t0.nidq"
S2P = "suite2p/plane0"
OPHYS = ("ophys.indicator=GCaMP6f", "ophys.location=VISp", "ophys.excitation_lambda=920", "ophys.emission_lambda=510")
RATE = ("ophys.rate=10",)  # the plain TIFF movie's (it has none); a header's own rate is left alone


@dataclass(frozen=True)
class Source:
    """One real recording: the folder copied, what is converted in the copy, and the files to damage."""

    fmt: str  # the reader that converts it
    name: str
    root: str  # realdata-relative folder that is copied
    target: str  # the path converted, relative to the copy ("." for the folder itself)
    headers: tuple[str, ...] = ()  # header files: truncated and flipped
    data: tuple[str, ...] = ()  # data files: truncated and zeroed (a one-file source: the target)
    siblings: tuple[str, ...] = ()  # files removed, one at a time
    header_bytes: int = 0  # for a file that is both header and data: the length of its header
    spikeglx: bool = False  # root holds real .meta headers; the copy is a run built around them
    undeclared: tuple[str, ...] = ()  # data files whose length no header declares: cut at a whole sample, the
    # copy cannot be told from a shorter recording (outcome "undeclared-shorter", not a failure)
    sets: tuple[str, ...] = ()  # extra `--set key=value` metadata the conversion needs (imaging: OPHYS)
    flip_span: tuple[int, int] = (0, 0)  # where "flip" lands in a data file when its header is not its first
    # header_bytes (a TIFF's first IFD and description, an .isxd's JSON footer: negative = from the end)

    def __post_init__(self) -> None:
        if not self.headers and not self.data:
            object.__setattr__(self, "data", (self.target,))

    @property
    def key(self) -> str:
        return f"{self.fmt}/{self.name}"


SOURCES = (
    Source("intan", "rhd", "intan/IntanToNWB", "example_intan_file.rhd", header_bytes=2048),
    Source("openephys-binary", "np-multiexp", OE, ".", (f"{OE_EXP}/structure.oebin", "Record Node 101/settings.xml"),
           (f"{OE_PROBE}/continuous.dat", f"{OE_PROBE}/sample_numbers.npy", f"{OE_TTL}/sample_numbers.npy"),
           (f"{OE_PROBE}/continuous.dat", "Record Node 101/experiment3/recording1/structure.oebin",
            f"{OE_TTL}/states.npy")),
    Source("openephys-binary", "spikes-events", "openephys_binary/oe_tools_v067_spikes_events", ".",
           (f"{OE_SE}/structure.oebin",), (f"{OE_SPIKES}/waveforms.npy",
           f"{OE_SE}/events/File_Reader-100.example_data/TTL/sample_numbers.npy"), (f"{OE_SPIKES}/clusters.npy",)),
    Source("openephys-legacy", "v067", "openephys_legacy/v0.6.7_OpenEphys", "Record Node 101",
           ("Record Node 101/settings.xml",), (f"{OE_LEGACY}_CH1.continuous", f"{OE_LEGACY}.events"),
           (f"{OE_LEGACY}_CH2.continuous", f"{OE_LEGACY}.events", "Record Node 101/settings.xml"), 1024),
    Source("neuralynx", "2kHz", "neuralynx/mne_testing_2kHz", ".", (), ("LAHC1.ncs", "Events.nev"),
           ("LAHC2.ncs", "Events.nev"), 16384),
    Source("blackrock", "ndi", "blackrock/ndi_matlab", "testData.ns2", (), ("testData.ns2", "testData.nev"),
           ("testData.nev",), 2048),
    Source("plexon", "16sp", "plexon/pyramid_plexon_sdk", "16sp_lfp_with_2coords.plx", header_bytes=8192),
    Source("phy", "ms4-export", "phy/changlab_ms4_export", ".", ("params.py",),
           ("spike_times.npy", "spike_clusters.npy"), ("spike_clusters.npy", "cluster_group.tsv")),
    Source("brainvision", "mne", "brainvision/mne", "test.vhdr", ("test.vhdr", "test.vmrk"), ("test.eeg",),
           ("test.vmrk", "test.eeg"), undeclared=("test.eeg",)),
    Source("edf", "mne", "edf/mne", "test.edf", header_bytes=256 * 140),
    Source("axon", "abf1", "abf", "05210017_vc_abf1.abf", header_bytes=2048),
    Source("axon", "abf2", "abf", "16d22006_kim_gapfree.abf", header_bytes=2048),
    Source("spike2", "smr", "spike2/spike2py", "motor_units.smr", header_bytes=4096),
    Source("mcs-h5", "w8", "mcs_h5", "2014-02-27T08-30-03W8SpikeCutoutsAndTimestampsAndRawData.h5", header_bytes=2048),
    Source("spikeglx", "np1-3B", "spikeglx_meta/np1_3B_g0", "Real_g0", (f"{SGLX}.ap.meta", f"{NIDQ}.meta"),
           (f"{SGLX}.ap.bin", f"{NIDQ}.bin"), (f"{SGLX}.ap.meta", f"{SGLX}.ap.bin", f"{SGLX}.lf.meta", f"{NIDQ}.meta"),
           spikeglx=True),
    Source("spikeglx", "np2.4", "spikeglx_meta/np24_4shank", "Real_g0", (f"{SGLX}.ap.meta",), (f"{SGLX}.ap.bin",),
           spikeglx=True),
    Source("suite2p", "fissa", "ophys/suite2p/fissa_example", "suite2p", (f"{S2P}/ops.npy", f"{S2P}/stat.npy"),
           (f"{S2P}/F.npy", f"{S2P}/iscell.npy"), (f"{S2P}/F.npy", f"{S2P}/ops.npy"), 128, sets=OPHYS),
    Source("caiman", "ideas", "ophys/caiman/ideas_toolbox", "sample_cellset_msr_1.hdf5", header_bytes=2048,
           sets=OPHYS),
    Source("scanimage", "si38", "ophys/scanimage/jefferis_si38", "Blank-IPA_1s_16r_032.tif", header_bytes=15746,
           sets=OPHYS, flip_span=(8192, 15746)),  # frame 0 at 8, its IFD at 8200, its description to 15714
    Source("tiff", "bigtiff", "ophys/tiff/ideas_toolbox", "movie_part2_108x123x63.tiff", header_bytes=16,
           sets=OPHYS + RATE, flip_span=(53152, 55376)),  # BigTIFF: frame 0 at 16, then its IFD
    Source("inscopix", "ideas", "ophys/inscopix/ideas_toolbox", "movie_part2_108x123x63.isxd", sets=OPHYS,
           flip_span=(-1233, -9)),  # frames first, then the JSON header, a NUL and its 8-byte length
)  # fmt: skip


QUICK = (  # the bounded run (tests/test_fuzz.py): a few mutants per format, as (source, kind, end of the file name)
    ("intan/rhd", "truncate-1", ".rhd"), ("intan/rhd", "flip", ".rhd"),
    ("openephys-binary/np-multiexp", "truncate-1", "structure.oebin"),
    ("openephys-binary/np-multiexp", "remove", "continuous.dat"),
    ("openephys-binary/spikes-events", "truncate-1", "structure.oebin"),
    ("openephys-legacy/v067", "remove", "_CH2.continuous"), ("openephys-legacy/v067", "remove", "settings.xml"),
    ("neuralynx/2kHz", "truncate-1", "Events.nev"), ("neuralynx/2kHz", "remove", "LAHC2.ncs"),
    ("blackrock/ndi", "truncate-1", ".ns2"), ("blackrock/ndi", "flip", ".nev"), ("plexon/16sp", "truncate-1", ".plx"),
    ("phy/ms4-export", "truncate-1", "params.py"), ("phy/ms4-export", "flip", "params.py"),
    ("brainvision/mne", "truncate-1", ".vmrk"), ("brainvision/mne", "remove", ".eeg"),
    ("edf/mne", "truncate-1", ".edf"), ("edf/mne", "flip", ".edf"), ("axon/abf1", "flip", ".abf"),
    ("axon/abf2", "truncate-1", ".abf"), ("axon/abf2", "flip", ".abf"),  # converts: compared with the undamaged copy
    ("spike2/smr", "truncate-1", ".smr"), ("mcs-h5/w8", "truncate-1", ".h5"), ("mcs-h5/w8", "flip", ".h5"),
    ("spikeglx/np1-3B", "remove", ".ap.meta"), ("spikeglx/np2.4", "truncate-1", ".ap.bin"),
    ("suite2p/fissa", "truncate-50", "F.npy"), ("suite2p/fissa", "flip", "stat.npy"),
    ("suite2p/fissa", "remove", "/F.npy"),  # roiextractors skips a missing trace file silently
    ("caiman/ideas", "truncate-50", ".hdf5"), ("caiman/ideas", "zero-4k", ".hdf5"),
    ("scanimage/si38", "truncate-50", ".tif"), ("scanimage/si38", "flip", ".tif"),
    ("scanimage/si38", "truncate-99", ".tif"),  # the cut takes page 29's data offsets: not a blank frame
    ("tiff/bigtiff", "truncate-1", ".tiff"), ("tiff/bigtiff", "zero-4k", ".tiff"),
    ("tiff/bigtiff", "flip", ".tiff"),  # page 0's IFD damaged: tifffile's log off stderr, a plain refusal
    ("inscopix/ideas", "truncate-99", ".isxd"), ("inscopix/ideas", "zero-4k", ".isxd"),  # converts: vs undamaged
)  # fmt: skip
