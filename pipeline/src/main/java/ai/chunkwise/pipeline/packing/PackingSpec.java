package ai.chunkwise.pipeline.packing;

import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.util.Objects;

/**
 * What a packer produces: rows of {@code chunkSize * chunksPerSeq} tokens laid out by {@code policy},
 * with BOS/EOS added around every document as requested.
 */
public record PackingSpec(int chunkSize, int chunksPerSeq, PackingPolicy policy, boolean addBos, boolean addEos,
                          TokenizerInfo tokenizer) {

    public PackingSpec {
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (chunkSize <= 0) {
            throw new IllegalArgumentException("chunk_size must be > 0, got " + chunkSize);
        }
        if (chunksPerSeq <= 0) {
            throw new IllegalArgumentException("chunks_per_seq must be > 0, got " + chunksPerSeq);
        }
        if ((long) chunkSize * chunksPerSeq > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("chunk_size x chunks_per_seq = " + ((long) chunkSize * chunksPerSeq)
                    + " tokens is too long for one row");
        }
        if (addBos && !tokenizer.hasBos()) {
            throw new IllegalArgumentException("tokenizer " + tokenizer.name() + " has no BOS token: name one with --bos-token"
                    + " (tokenize.bos-token), or don't add one: --no-add-bos (tokenize.add-bos = false)");
        }
        if (addEos && !tokenizer.hasEos()) {
            throw new IllegalArgumentException("tokenizer " + tokenizer.name() + " has no EOS token: name one with --eos-token"
                    + " (tokenize.eos-token), or don't add one: --no-eos (tokenize.add-eos = false)");
        }
        if (!tokenizer.hasPad()) {
            throw new IllegalArgumentException("tokenizer " + tokenizer.name()
                    + " has neither a pad nor an EOS token to fill padding with: name one with --pad-token"
                    + " (tokenize.pad-token)");
        }
    }

    /** Tokens per row. */
    public int seqLen() {
        return chunkSize * chunksPerSeq;
    }

    /** Number of tokens a document of {@code documentTokens} tokens occupies once BOS/EOS are added. */
    int withSpecials(int documentTokens) {
        return documentTokens + (addBos ? 1 : 0) + (addEos ? 1 : 0);
    }
}
