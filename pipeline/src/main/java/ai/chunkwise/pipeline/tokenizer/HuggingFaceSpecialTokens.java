package ai.chunkwise.pipeline.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * BOS/EOS/PAD ids of a Hugging Face tokenizer, found as transformers finds them.
 *
 * <p>Order, per token: the name given explicitly ({@code --bos-token} ...); else {@code tokenizer_config.json}'s
 * {@code bos_token}/{@code eos_token}/{@code pad_token} beside {@code tokenizer.json}; else
 * {@code special_tokens_map.json}'s; a value is a string, an AddedToken object ({@code {"content": ...}}) or null
 * (no such token). Only when neither file exists are the usual token names guessed ({@code <s>},
 * {@code <|begin_of_text|>}, ...). PAD, when none is named, is {@code tokenizer.json}'s {@code padding.pad_id},
 * else EOS: padded positions never enter the loss. {@code add_bos_token}/{@code add_eos_token} are read too,
 * so that the tokenize job can say when the model expects BOS before every text.
 *
 * @param addBosToken the config's {@code add_bos_token}, null when absent
 * @param addEosToken the config's {@code add_eos_token}, null when absent
 * @param source      where the names came from, for messages
 */
public record HuggingFaceSpecialTokens(int bosId, int eosId, int padId, Boolean addBosToken, Boolean addEosToken,
                                       String source) {

    public static final String CONFIG_FILE = "tokenizer_config.json";
    public static final String MAP_FILE = "special_tokens_map.json";

    static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>");
    static final List<String> EOS_NAMES = List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");
    static final List<String> PAD_NAMES = List.of("<pad>", "<|pad|>", "[PAD]");

    private static final ObjectMapper JSON = new ObjectMapper();

    private enum Role {
        BOS("bos_token", "--bos-token", BOS_NAMES), EOS("eos_token", "--eos-token", EOS_NAMES),
        PAD("pad_token", "--pad-token", PAD_NAMES);

        final String key;
        final String flag;
        final List<String> guesses;

        Role(String key, String flag, List<String> guesses) {
            this.key = key;
            this.flag = flag;
            this.guesses = guesses;
        }
    }

    /**
     * @param name         the tokenizer's name, for messages
     * @param ids          token string to id over the vocabulary and added tokens
     * @param padding      tokenizer.json's {@code padding} object, or null
     * @param dir          the directory holding tokenizer.json (its config files are looked for there), or null
     * @param explicit     names given by the user
     */
    static HuggingFaceSpecialTokens resolve(String name, Map<String, Integer> ids, JsonNode padding, Path dir,
                                            SpecialTokenNames explicit) {
        JsonNode config = dir == null ? null : readJson(dir.resolve(CONFIG_FILE));
        JsonNode map = dir == null ? null : readJson(dir.resolve(MAP_FILE));
        String source = config != null ? dir.resolve(CONFIG_FILE).toString()
                : map != null ? dir.resolve(MAP_FILE).toString() : "token-name guesses (no " + CONFIG_FILE + ")";
        int bos = find(Role.BOS, explicit.bos(), name, ids, dir, config, map);
        int eos = find(Role.EOS, explicit.eos(), name, ids, dir, config, map);
        JsonNode padId = padding == null ? null : padding.path("pad_id");
        boolean hasPadId = padId != null && padId.canConvertToInt();
        int pad;
        if (explicit.pad() == null && config == null && map == null && hasPadId) {
            pad = padId.asInt();   // without config files, padding.pad_id comes before the name guesses
        } else {
            pad = find(Role.PAD, explicit.pad(), name, ids, dir, config, map);
        }
        if (pad < 0 && explicit.pad() == null) {
            pad = hasPadId ? padId.asInt() : eos;
        }
        if (!explicit.isEmpty()) {
            source = "explicit names (--bos-token/--eos-token/--pad-token), then " + source;
        }
        return new HuggingFaceSpecialTokens(bos, eos, pad, bool(config, "add_bos_token"), bool(config, "add_eos_token"),
                source);
    }

    private static int find(Role role, String explicitName, String name, Map<String, Integer> ids, Path dir,
                            JsonNode config, JsonNode map) {
        if (explicitName != null) {
            Integer id = ids.get(explicitName);
            if (id == null) {
                throw new IllegalArgumentException(name + ": " + role.flag + " '" + explicitName
                        + "' is not a token of this tokenizer.json; give a token string exactly as in its vocabulary"
                        + " or added_tokens");
            }
            return id;
        }
        for (JsonNode file : new JsonNode[]{config, map}) {
            if (file == null || !file.has(role.key)) {
                continue;
            }
            Path where = dir.resolve(file == config ? CONFIG_FILE : MAP_FILE);
            String content = tokenContent(file.get(role.key), where, role);
            if (content == null) {
                return -1;   // named as null: the tokenizer has no such token (e.g. Qwen's bos_token)
            }
            Integer id = ids.get(content);
            if (id == null) {
                throw new IllegalArgumentException(name + ": " + where + " sets " + role.key + " = '" + content + "', which is not a token of tokenizer.json; fix the"
                        + " file or name the token with " + role.flag);
            }
            return id;
        }
        if (config != null || map != null) {
            return -1;
        }
        for (String guess : role.guesses) {
            Integer id = ids.get(guess);
            if (id != null) {
                return id;
            }
        }
        return -1;
    }

    /** A token as tokenizer_config.json writes it: a string, an AddedToken object, or null. */
    private static String tokenContent(JsonNode value, Path where, Role role) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.asText();
        }
        if (value.isObject() && value.path("content").isTextual()) {
            return value.path("content").asText();
        }
        throw new IllegalArgumentException(where + ": " + role.key + " = " + value + " is neither a string, an object"
                + " with \"content\" nor null; fix the file or name the token with " + role.flag);
    }

    private static Boolean bool(JsonNode config, String key) {
        return config != null && config.path(key).isBoolean() ? config.path(key).asBoolean() : null;
    }

    private static JsonNode readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(file + " is not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not valid JSON (" + e.getMessage().lines().findFirst()
                    .orElse("") + "); fix it or remove it", e);
        }
    }
}
