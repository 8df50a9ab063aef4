package ai.chunkwise.pipeline.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Any Hugging Face {@code tokenizer.json}, run by the Rust tokenizers library through DJL's binding.
 *
 * <p>Special ids come from {@code tokenizer_config.json} / {@code special_tokens_map.json} beside the file, or
 * from names given explicitly: see {@link HuggingFaceSpecialTokens}. BOS/EOS are -1 when absent.
 */
public final class HuggingFaceTokenizerJson implements TextTokenizer {

    public static final String PREFIX = "hf:";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerInfo info;
    private final HuggingFaceSpecialTokens specialTokens;

    private HuggingFaceTokenizerJson(HuggingFaceTokenizer tokenizer, TokenizerInfo info,
                                     HuggingFaceSpecialTokens specialTokens) {
        this.tokenizer = tokenizer;
        this.info = info;
        this.specialTokens = specialTokens;
    }

    /** Opens a tokenizer.json file; the tokenizer's name is {@code hf:<file>}. */
    public static HuggingFaceTokenizerJson open(Path tokenizerJson) {
        return open(tokenizerJson, SpecialTokenNames.NONE);
    }

    /**
     * Opens a tokenizer.json file, its special tokens found by {@link HuggingFaceSpecialTokens} (the config files
     * beside it, then {@code explicit}); the tokenizer's name is {@code hf:<file>}.
     */
    public static HuggingFaceTokenizerJson open(Path tokenizerJson, SpecialTokenNames explicit) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + tokenizerJson + " (" + e
                    + "); check the path in the 'hf:' tokenizer spec", e);
        }
        return fromBytes(PREFIX + tokenizerJson, bytes, tokenizerJson.toAbsolutePath().getParent(), explicit);
    }

    /**
     * Builds a tokenizer from tokenizer.json bytes under a given name, so that Spark executors using a
     * broadcast copy report the same identity as the driver.
     */
    public static HuggingFaceTokenizerJson fromBytes(String name, byte[] tokenizerJson) {
        return fromBytes(name, tokenizerJson, null, SpecialTokenNames.NONE);
    }

    /**
     * As {@link #fromBytes(String, byte[])}, with the special tokens read from the config files in {@code dir}
     * (null: none) unless named in {@code explicit}.
     */
    public static HuggingFaceTokenizerJson fromBytes(String name, byte[] tokenizerJson, Path dir,
                                                     SpecialTokenNames explicit) {
        Described d = describe(name, tokenizerJson, dir, explicit);
        TokenizerInfo info = d.info();
        HuggingFaceSpecialTokens special = d.special();

        // DJL would otherwise probe the EC2 metadata endpoint to send telemetry; nothing here may touch the network.
        if (System.getProperty("offline") == null) {
            System.setProperty("offline", "true");
        }
        // Defaults of DJL are made for classification models: add [CLS]-style tokens, truncate to 512, pad.
        // Long-document packing needs none of that.
        Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
        try {
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(tokenizerJson), options);
            return new HuggingFaceTokenizerJson(tokenizer, info, special);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(name + ": the Hugging Face tokenizers library rejected this tokenizer.json ("
                    + e.getMessage() + ")", e);
        }
    }

    /**
     * The identity of a tokenizer.json (vocabulary size, special ids found as {@link #open(Path)} finds them, SHA-256)
     * without loading the tokenizer itself; e.g. to compare a model directory's tokenizer with a dataset's.
     */
    public static TokenizerInfo describe(Path tokenizerJson) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(tokenizerJson);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read Hugging Face tokenizer file " + tokenizerJson + " (" + e + ")", e);
        }
        return describe(PREFIX + tokenizerJson, bytes, tokenizerJson.toAbsolutePath().getParent(), SpecialTokenNames.NONE).info();
    }

    private record Described(TokenizerInfo info, HuggingFaceSpecialTokens special) {
    }

    private static Described describe(String name, byte[] tokenizerJson, Path dir, SpecialTokenNames explicit) {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson);
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": not a valid tokenizer.json (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        Map<String, Integer> ids = tokenIds(root, name);
        int vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        if (root.path("model").path("vocab").isArray()) { // Unigram: the vocabulary is a list, ids are positions
            vocabSize = Math.max(vocabSize, root.path("model").path("vocab").size());
        }
        HuggingFaceSpecialTokens special = HuggingFaceSpecialTokens.resolve(name, ids, root, dir, explicit);
        return new Described(new TokenizerInfo(name, vocabSize, special.bosId(), special.eosId(), special.padId(),
                Sha256.hex(tokenizerJson)), special);
    }

    /** Token string to id over the model vocabulary and added_tokens (added tokens win). */
    private static Map<String, Integer> tokenIds(JsonNode root, String name) {
        Map<String, Integer> ids = new HashMap<>();
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) { // BPE, WordPiece, WordLevel
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                ids.put(e.getKey(), e.getValue().asInt());
            }
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...]
            for (int i = 0; i < vocab.size(); i++) {
                ids.put(vocab.get(i).path(0).asText(), i);
            }
        } else {
            throw new IllegalArgumentException(name + ": tokenizer.json has no model.vocab; is this a Hugging Face tokenizer.json?");
        }
        for (JsonNode added : root.path("added_tokens")) {
            if (added.path("content").isTextual() && added.path("id").canConvertToInt()) {
                ids.put(added.path("content").asText(), added.path("id").asInt());
            }
        }
        return ids;
    }

    /** Where the special ids came from, and the config's add_bos_token / add_eos_token. */
    public HuggingFaceSpecialTokens specialTokens() {
        return specialTokens;
    }

    @Override
    public TokenizerInfo info() {
        return info;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= info.vocabSize()) {
                throw new IllegalArgumentException(info.name() + ": id " + ids[i] + " is outside [0, " + info.vocabSize() + ")");
            }
            longs[i] = ids[i];
        }
        return tokenizer.decode(longs, false);
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
