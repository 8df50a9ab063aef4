package ai.chunkwise.pipeline.packing;

import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.util.Objects;
import java.util.function.Consumer;

/** What every policy shares: BOS/EOS framing, id validation, seqIds, emission and counts. */
abstract class AbstractPacker implements SequencePacker {

    protected final PackingSpec spec;
    protected final int seqLen;
    private final Consumer<PackedSequence> out;
    private long nextSeqId;
    private long documents;
    private long tokens;
    private long padding;
    private long splitDocuments;
    private boolean finished;

    AbstractPacker(PackingSpec spec, Consumer<PackedSequence> out) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.out = Objects.requireNonNull(out, "out");
        this.seqLen = spec.seqLen();
    }

    @Override
    public final void accept(int[] documentTokens) {
        if (finished) {
            throw new IllegalStateException("packer already finished; create a new one");
        }
        int[] framed = frame(documentTokens);
        if (framed.length == 0) {
            throw new IllegalArgumentException("document " + documents + " has no tokens and no BOS/EOS is added; "
                    + "skip empty documents before packing");
        }
        documents++;
        tokens += framed.length;
        place(framed);
    }

    @Override
    public final void finish() {
        if (!finished) {
            finished = true;
            flush();
        }
    }

    @Override
    public final PackingStats stats() {
        return new PackingStats(documents, tokens, padding, nextSeqId, splitDocuments);
    }

    /** Places one framed document (BOS/EOS included). */
    protected abstract void place(int[] framedDocument);

    /** Emits whatever is still buffered. */
    protected abstract void flush();

    protected final void emit(RowBuilder row, boolean nextContinuesPrevious) {
        PackedSequence s = row.buildAndReset(nextSeqId++, nextContinuesPrevious);
        padding += s.padding();
        out.accept(s);
    }

    protected final void countSplitDocument() {
        splitDocuments++;
    }

    /** Index of the document being accepted (0-based), for error messages. */
    protected final long documentIndex() {
        return documents;
    }

    private int[] frame(int[] doc) {
        Objects.requireNonNull(doc, "documentTokens");
        TokenizerInfo tok = spec.tokenizer();
        int vocab = tok.vocabSize();
        for (int i = 0; i < doc.length; i++) {
            if (doc[i] < 0 || doc[i] >= vocab) {
                throw new IllegalArgumentException("document " + documents + ": token " + i + " has id " + doc[i]
                        + ", outside the vocabulary [0, " + vocab + ") of " + tok.name()
                        + "; were the documents tokenized with another tokenizer?");
            }
        }
        int[] framed = new int[spec.withSpecials(doc.length)];
        int p = 0;
        if (spec.addBos()) {
            framed[p++] = tok.bosId();
        }
        System.arraycopy(doc, 0, framed, p, doc.length);
        p += doc.length;
        if (spec.addEos()) {
            framed[p] = tok.eosId();
        }
        return framed;
    }
}
