package ai.chunkwise.train.bench;

/** One way to run the attention core of a chunk forward and backward: the variants the attention-core suite compares. */
public interface AttentionCore {
    /** The label in the benchmark's output. */
    String name();

    /**
     * Forward then backward, the forward complete before the backward starts (as in a chunk step, where every
     * layer's forward runs before any backward): what the backward needs is kept in between.
     */
    AttentionGradients run(AttentionInputs in);

    /** Arrays this core allocated in its last {@link #run} (its inputs not counted). */
    ArrayLedger ledger();

    /** Whether the caller may close the arrays {@link #run} returns (SameDiff's belong to its session). */
    boolean callerOwnsOutputs();
}
