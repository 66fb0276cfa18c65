"""Choosing a `tf.distribute` strategy and a precision by name."""

import json
import os
import tempfile

import keras
import tensorflow as tf

STRATEGIES = ("one_device", "mirrored", "multi_worker_mirrored", "tpu")
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16", "mixed_bfloat16": "mixed_bfloat16",
              "float16": "mixed_float16", "mixed_float16": "mixed_float16"}


def split_cpu(num_devices):
    """Splits the CPU into `num_devices` logical devices (`/cpu:0`, `/cpu:1`, ...).

    Lets `MirroredStrategy` run (and be tested) on a machine without
    accelerators. Must run before TensorFlow first uses a device.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * num_devices)


def get_strategy(name="one_device", num_gpus=None, tpu=None):
    """A `tf.distribute.Strategy` by name.

    Args:
        name: `"one_device"` (TensorFlow's default strategy: the first GPU,
            else the CPU), `"mirrored"` (all local GPUs, or `num_gpus` of
            them; the logical CPUs made by `split_cpu` when there is no GPU),
            `"multi_worker_mirrored"` (workers from the `TF_CONFIG`
            environment variable) or `"tpu"`.
        num_gpus: optional int. GPUs to use with `"mirrored"`.
        tpu: str. TPU name or `grpc://` address for `"tpu"` (`"local"` on a
            TPU VM).

    Returns:
        A strategy; build models in its `scope()`. Batch sizes given to the
        input pipeline are global: each of the `num_replicas_in_sync` replicas
        gets an equal share.

    Example:
    >>> get_strategy("one_device").num_replicas_in_sync
    1
    """
    if name == "one_device":
        # TensorFlow's default strategy: no replica machinery, the first GPU if any, else the CPU.
        # Seeded runs then match code that never names a strategy; OneDeviceStrategy's do not.
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
        devices = gpus[:num_gpus] if num_gpus else gpus
        if not devices:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker_mirrored":
        if "TF_CONFIG" not in os.environ:
            raise ValueError(
                "multi_worker_mirrored needs the TF_CONFIG environment variable "
                '(e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}).'
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        if not tpu:
            raise ValueError("name='tpu' needs `tpu` (a TPU name, grpc:// address, or 'local').")
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"name={name!r}; use one of {STRATEGIES}.")


def set_precision(precision):
    """Sets the global Keras dtype policy from a precision name.

    `"float32"`, `"bfloat16"` (mixed: bfloat16 compute, float32 variables) or
    `"float16"` (mixed, with loss scaling added by `Model.compile`). The
    `mixed_` spellings are accepted too. Call it before building models.

    Example:
    >>> set_precision("bfloat16")
    >>> keras.mixed_precision.global_policy().name
    'mixed_bfloat16'
    >>> set_precision("float32")
    """
    keras.mixed_precision.set_global_policy(dtype_policy_name(precision))


def dtype_policy_name(precision, argument="precision"):
    """The Keras dtype policy for a precision name; an error naming `argument` for any other value.

    Example:
    >>> dtype_policy_name("bfloat16")
    'mixed_bfloat16'
    >>> dtype_policy_name("int8", "precision")
    Traceback (most recent call last):
    ValueError: precision='int8'; use float32, bfloat16 or float16.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"{argument}={precision!r}; use float32, bfloat16 or float16.")
    return PRECISIONS[precision]


def is_chief(strategy):
    """Whether this process writes checkpoints and logs (always, unless multi-worker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def writable_dir(strategy, directory):
    """`directory` on the chief; a private temporary directory on other workers.

    Every worker must take part in saving (the variables are synchronised
    collectively), but only the chief's files are kept.
    """
    return directory if is_chief(strategy) else tempfile.mkdtemp(prefix="keras_bert_worker_")
