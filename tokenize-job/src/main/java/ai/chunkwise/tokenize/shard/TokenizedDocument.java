package ai.chunkwise.tokenize.shard;

import java.io.Serializable;

/** A document's tokens on their way to its shard, or the reason the record was skipped (counted there). */
public final class TokenizedDocument implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] tokens;
    private final String skipReason;

    private TokenizedDocument(int[] tokens, String skipReason) {
        this.tokens = tokens;
        this.skipReason = skipReason;
    }

    public static TokenizedDocument of(int[] tokens) {
        return new TokenizedDocument(tokens, null);
    }

    public static TokenizedDocument skipped(String reason) {
        return new TokenizedDocument(null, reason);
    }

    /** The tokens (no BOS/EOS); null when skipped. */
    public int[] tokens() {
        return tokens;
    }

    public String skipReason() {
        return skipReason;
    }
}
