package ai.chunkwise.train.checkpoint;

/**
 * The element type a checkpoint's base weights are loaded in. Weights that train need the compute type (float32 or
 * float64), but frozen ones (every base weight of a LoRA run, every weight of an evaluation) are only read:
 * keeping a bfloat16 or float16 checkpoint's tensors as stored halves their memory (a Llama-3.1-8B base is 15 GiB
 * instead of 30), and the model widens them to the compute type where it computes. bfloat16 and float16 widen to
 * float32 and float64 exactly, so results are the same as with weights widened at load time.
 */
public enum FrozenWeights {
    /** Every floating-point tensor converted to the compute type when loaded. */
    WIDENED,
    /** BF16 and F16 tensors kept as BFLOAT16 and HALF arrays, bit for bit; F32 and F64 ones in the compute type. */
    AS_STORED;

    /** The default for a run: as stored when the base weights are frozen (a LoRA adapter trains), else widened. */
    public static FrozenWeights forRun(boolean baseFrozen) {
        return baseFrozen ? AS_STORED : WIDENED;
    }
}
