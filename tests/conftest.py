import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_PROGRESS", "0")

# A process that uses both tracks must load TensorFlow first: course_lib.torch.monitoring then leaves TensorBoard
# the real TensorFlow (tf.summary needs it) instead of its stand-in. Test modules are imported in name order.
try:
    import course_lib.tensorflow  # noqa: E402,F401
except ImportError:  # a PyTorch-only install
    pass
