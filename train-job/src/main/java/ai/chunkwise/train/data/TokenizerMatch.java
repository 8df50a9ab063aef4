package ai.chunkwise.train.data;

import ai.chunkwise.pipeline.tokenizer.HuggingFaceTokenizerJson;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Does the datasets' tokenizer (named in their schema metadata: vocabulary SHA-256 and special ids) match the
 * model's (the {@code tokenizer.json} in the model directory, special tokens read as the tokenize job reads them)?
 * A dataset tokenized with another tokenizer would otherwise train without complaint on meaningless ids.
 */
public final class TokenizerMatch {
    public static final String TOKENIZER_FILE = "tokenizer.json";
    public static final String OVERRIDE_KEY = "train.data.check-tokenizer";
    private static final String TRAIN_ANYWAY = "set " + OVERRIDE_KEY + " = false to train anyway";

    private TokenizerMatch() {
    }

    /**
     * Refuses a mismatch with a message naming both tokenizers; nothing to compare when the model directory is
     * null (from scratch) or has no tokenizer.json (then only the vocabulary size is checked, elsewhere).
     */
    public static void require(String datasetName, TokenizerInfo dataset, Path modelDir) {
        require(datasetName, dataset, modelDir, TRAIN_ANYWAY);
    }

    /** @param override how the user goes on regardless, ending the message (e.g. an option of another command) */
    public static void require(String datasetName, TokenizerInfo dataset, Path modelDir, String override) {
        mismatch(datasetName, dataset, modelDir, override).ifPresent(message -> {
            throw new IllegalArgumentException(message);
        });
    }

    /** Why the two differ, or empty when they match or there is nothing to compare. */
    public static Optional<String> mismatch(String datasetName, TokenizerInfo dataset, Path modelDir) {
        return mismatch(datasetName, dataset, modelDir, TRAIN_ANYWAY);
    }

    /** @param override how the user goes on regardless, ending the message */
    public static Optional<String> mismatch(String datasetName, TokenizerInfo dataset, Path modelDir, String override) {
        if (modelDir == null || !Files.isRegularFile(modelDir.resolve(TOKENIZER_FILE))) {
            return Optional.empty();
        }
        Path file = modelDir.resolve(TOKENIZER_FILE);
        TokenizerInfo model = HuggingFaceTokenizerJson.describe(file);
        String what;
        if (!model.vocabHash().equals(dataset.vocabHash())) {
            what = "another vocabulary";
        } else if (model.bosId() != dataset.bosId() || model.eosId() != dataset.eosId()) {
            what = "other special tokens";
        } else {
            return Optional.empty();
        }
        return Optional.of("dataset " + datasetName + " was tokenized with " + describe(dataset) + ", but model "
                + modelDir + " has " + what + ": " + describe(model) + ". Tokenize with --tokenizer hf:" + file
                + " (special tokens from its tokenizer_config.json), or " + override);
    }

    /**
     * The directory whose tokenizer files a written model should carry: the model directory when it has a
     * tokenizer.json, else the dataset's own hf: tokenizer when that file is still there unchanged; else null.
     */
    public static Path tokenizerFilesDir(Path modelDir, TokenizerInfo dataset) {
        if (modelDir != null && Files.isRegularFile(modelDir.resolve(TOKENIZER_FILE))) {
            return modelDir;
        }
        if (dataset.name().startsWith(HuggingFaceTokenizerJson.PREFIX)) {
            Path file = Path.of(dataset.name().substring(HuggingFaceTokenizerJson.PREFIX.length()));
            if (Files.isRegularFile(file) && HuggingFaceTokenizerJson.describe(file).vocabHash().equals(dataset.vocabHash())) {
                return file.toAbsolutePath().getParent();
            }
        }
        return null;
    }

    private static String describe(TokenizerInfo t) {
        return t.name() + " (vocabulary SHA-256 " + t.vocabHash().substring(0, Math.min(12, t.vocabHash().length()))
                + "..., " + t.vocabSize() + " ids, BOS " + t.bosId() + ", EOS " + t.eosId() + ")";
    }
}
