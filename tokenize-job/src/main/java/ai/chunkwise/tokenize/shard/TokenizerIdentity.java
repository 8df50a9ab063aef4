package ai.chunkwise.tokenize.shard;

import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.io.Serializable;

/**
 * A serializable copy of {@link TokenizerInfo}: the driver resolves the tokenizer once and ships its identity
 * to the executors, which check that their own tokenizer is the same one (e.g. the same tokenizer.json).
 */
public final class TokenizerIdentity implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String name;
    private final int vocabSize;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final String vocabHash;

    public TokenizerIdentity(TokenizerInfo info) {
        this.name = info.name();
        this.vocabSize = info.vocabSize();
        this.bosId = info.bosId();
        this.eosId = info.eosId();
        this.padId = info.padId();
        this.vocabHash = info.vocabHash();
    }

    public TokenizerInfo info() {
        return new TokenizerInfo(name, vocabSize, bosId, eosId, padId, vocabHash);
    }
}
