package ai.chunkwise.train.bench;

/** An attention core on eager ND4J calls: it allocates through its own ledger and hands its outputs to the caller. */
public abstract class EagerAttentionCore implements AttentionCore {
    protected final ArrayLedger ledger = new ArrayLedger();

    @Override
    public final ArrayLedger ledger() {
        return ledger;
    }

    @Override
    public final boolean callerOwnsOutputs() {
        return true;
    }
}
