package ai.chunkwise.pipeline.tokenizer;

import java.util.Objects;

/**
 * Identity of a tokenizer as recorded in every dataset: enough to refuse a dataset tokenized with a
 * different vocabulary than the model expects.
 *
 * @param name       the spec that recreates the tokenizer via {@link TextTokenizer#fromSpec(String)}
 * @param vocabSize  number of ids (every id is in {@code [0, vocabSize)})
 * @param bosId      beginning-of-sequence id, -1 when the tokenizer has none
 * @param eosId      end-of-sequence id, -1 when the tokenizer has none
 * @param padId      id written into padding positions, -1 when the tokenizer has none
 * @param vocabHash  SHA-256 hex over the vocabulary, stable across runs and machines
 */
public record TokenizerInfo(String name, int vocabSize, int bosId, int eosId, int padId, String vocabHash) {

    public TokenizerInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(vocabHash, "vocabHash");
        if (name.isBlank()) {
            throw new IllegalArgumentException("tokenizer name must not be blank");
        }
        if (vocabSize <= 0) {
            throw new IllegalArgumentException("tokenizer " + name + ": vocabSize must be > 0, got " + vocabSize);
        }
        checkSpecialId(name, "bosId", bosId, vocabSize);
        checkSpecialId(name, "eosId", eosId, vocabSize);
        checkSpecialId(name, "padId", padId, vocabSize);
    }

    private static void checkSpecialId(String name, String what, int id, int vocabSize) {
        if (id < -1 || id >= vocabSize) {
            throw new IllegalArgumentException("tokenizer " + name + ": " + what + " must be -1 (none) or in [0, "
                    + vocabSize + "), got " + id);
        }
    }

    public boolean hasBos() {
        return bosId >= 0;
    }

    public boolean hasEos() {
        return eosId >= 0;
    }

    public boolean hasPad() {
        return padId >= 0;
    }
}
