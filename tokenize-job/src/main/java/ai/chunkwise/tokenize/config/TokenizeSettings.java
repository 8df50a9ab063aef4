package ai.chunkwise.tokenize.config;

import ai.chunkwise.pipeline.config.StrictConfig;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.storage.Redact;
import ai.chunkwise.tokenize.output.VersionPlan;
import ai.chunkwise.pipeline.tokenizer.SpecialTokenNames;
import ai.chunkwise.tokenize.input.InputFormat;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import ai.chunkwise.pipeline.config.ConfFiles;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;

import java.io.File;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The effective, validated configuration of one tokenize run.
 *
 * <p>Layers, highest first: command-line options, the {@code --conf} file, the documented defaults
 * ({@code conf/tokenize.conf}, built into the jar). Every key lives under {@code tokenize.}.
 */
public record TokenizeSettings(
        String input,
        InputFormat format,
        String textField,
        String output,
        String mode,
        boolean overwrite,
        String tokenizer,
        SpecialTokenNames specialTokens,
        int chunkSize,
        int chunksPerSeq,
        PackingPolicy packing,
        boolean addBos,
        boolean addEos,
        long seed,
        int partitions,
        int shards,
        int rowsPerBatch,
        String master,
        double evalFraction,
        String evalOutput) {

    public static final String ROOT = "tokenize";
    /** The defaults: conf/tokenize.conf, copied into the jar by the build. */
    public static final String DEFAULTS_RESOURCE = "ai/chunkwise/tokenize/tokenize.conf";

    /**
     * Every key, relative to {@link #ROOT} (one per command-line option), with the value manifest.json records for
     * it: one list, so that a key cannot be accepted and then left out of the record, or the other way round.
     */
    private static final Map<String, Function<TokenizeSettings, Object>> RECORDED = recorded();
    /** Every key, relative to {@link #ROOT}; one per command-line option. */
    public static final List<String> KEYS = List.copyOf(RECORDED.keySet());

    public TokenizeSettings {
        if (input == null || input.isBlank()) {
            throw new IllegalArgumentException("no input: give --input <path or glob> or set tokenize.input in the --conf file");
        }
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("no output: give --output <dir> or set tokenize.output in the --conf file");
        }
        if (format.hasTextField() && (textField == null || textField.isBlank())) {
            throw new IllegalArgumentException("tokenize.text-field (--text-field) must name the "
                    + (format == InputFormat.JSONL ? "JSON field" : "Parquet column") + " holding the text");
        }
        requirePositive("chunk-size", chunkSize);
        requirePositive("chunks-per-seq", chunksPerSeq);
        requirePositive("rows-per-batch", rowsPerBatch);
        if ((long) chunkSize * chunksPerSeq > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("chunk-size x chunks-per-seq = " + (long) chunkSize * chunksPerSeq
                    + " tokens per row is too large");
        }
        if (partitions < 0) {
            throw new IllegalArgumentException("tokenize.partitions (--partitions) must be >= 0 (0 = Spark's default parallelism), got " + partitions);
        }
        if (shards < 0) {
            throw new IllegalArgumentException("tokenize.shards (--shards) must be >= 0 (0 = auto), got " + shards);
        }
        master = master == null ? "" : master;
        mode = mode == null ? "full" : mode.trim();
        if (!VersionPlan.MODES.contains(mode)) {
            throw new IllegalArgumentException("tokenize.mode (--mode) must be one of " + VersionPlan.MODES + ", got '" + mode + "'");
        }
        specialTokens = specialTokens == null ? SpecialTokenNames.NONE : specialTokens;
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("tokenize.eval-fraction (--eval-fraction) must be in [0, 1) (0 = no "
                    + "held-out set), got " + evalFraction);
        }
        evalOutput = evalOutput == null ? "" : evalOutput;
    }

    /** Where the held-out documents go: tokenize.eval-output, or the output directory's sibling {@code <output>-eval}. */
    public String evalOutputPath() {
        if (!evalOutput.isBlank()) {
            return evalOutput;
        }
        String base = output;
        while (base.length() > 1 && base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base + "-eval";
    }

    private static void requirePositive(String key, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException("tokenize." + key + " (--" + key + ") must be > 0, got " + value);
        }
    }

    public int seqLen() {
        return chunkSize * chunksPerSeq;
    }

    /**
     * Reads the settings.
     *
     * @param overrides command-line values by key (see {@link #KEYS}); absent keys are not overridden
     * @param confFile  the --conf file, or null
     */
    public static TokenizeSettings load(Map<String, Object> overrides, File confFile) {
        Config defaults = ConfigFactory.parseResources(TokenizeSettings.class.getClassLoader(), DEFAULTS_RESOURCE,
                ConfigParseOptions.defaults().setAllowMissing(false));
        Config layered = defaults;
        String source = "defaults (conf/tokenize.conf)";
        if (confFile != null) {
            if (!confFile.isFile()) {
                throw new IllegalArgumentException("config file " + confFile + " does not exist or is not a file");
            }
            Config file;
            try {
                file = ConfFiles.parse(confFile);   // its includes must exist (a missing one is an error)
            } catch (ConfigException e) {
                throw new IllegalArgumentException("cannot parse config file " + confFile + ": " + e.getMessage(), e);
            }
            StrictConfig.rejectUnknownKeys(file, knownPaths(), confFile.getPath());
            layered = file.withFallback(defaults);
            source = confFile.getPath();
        }
        Map<String, Object> cli = new LinkedHashMap<>();
        overrides.forEach((k, v) -> {
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException("internal: unknown override key " + k);
            }
            cli.put(ROOT + "." + k, v);
        });
        Config c = ConfigFactory.parseMap(cli, "command line").withFallback(layered).resolve();
        StrictConfig.rejectUnknownKeys(c, knownPaths(), source);
        try {
            Config t = c.getConfig(ROOT);
            return new TokenizeSettings(
                    t.hasPath("input") ? t.getString("input") : null,
                    InputFormat.parse(t.getString("format")),
                    t.getString("text-field"),
                    t.hasPath("output") ? t.getString("output") : null,
                    t.getString("mode"),
                    t.getBoolean("overwrite"),
                    t.getString("tokenizer"),
                    new SpecialTokenNames(t.getString("bos-token"), t.getString("eos-token"), t.getString("pad-token")),
                    t.getInt("chunk-size"),
                    t.getInt("chunks-per-seq"),
                    PackingPolicy.parse(t.getString("packing")),
                    t.getBoolean("add-bos"),
                    t.getBoolean("add-eos"),
                    t.getLong("seed"),
                    t.getInt("partitions"),
                    t.getInt("shards"),
                    t.getInt("rows-per-batch"),
                    t.getString("master"),
                    t.getDouble("eval-fraction"),
                    t.getString("eval-output"));
        } catch (ConfigException e) {
            // Typesafe's message already carries the origin (file: line) and the key
            throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
        }
    }

    public static Set<String> knownPaths() {
        return KEYS.stream().map(k -> ROOT + "." + k).collect(Collectors.toUnmodifiableSet());
    }

    /** The effective configuration as recorded in manifest.json (keys as in the conf file). */
    public SortedMap<String, Object> toConfigMap() {
        SortedMap<String, Object> m = new TreeMap<>();
        RECORDED.forEach((key, value) -> m.put(key, value.apply(this)));
        return m;
    }

    private static Map<String, Function<TokenizeSettings, Object>> recorded() {
        Map<String, Function<TokenizeSettings, Object>> m = new LinkedHashMap<>();
        m.put("input", s -> Redact.uri(s.input));
        m.put("format", s -> s.format.configName());
        m.put("text-field", s -> s.textField);
        m.put("output", s -> Redact.uri(s.output));
        m.put("mode", s -> s.mode);
        m.put("overwrite", s -> s.overwrite);
        m.put("tokenizer", s -> Redact.uri(s.tokenizer));
        m.put("bos-token", s -> s.specialTokens.bos() == null ? "" : s.specialTokens.bos());
        m.put("eos-token", s -> s.specialTokens.eos() == null ? "" : s.specialTokens.eos());
        m.put("pad-token", s -> s.specialTokens.pad() == null ? "" : s.specialTokens.pad());
        m.put("chunk-size", s -> s.chunkSize);
        m.put("chunks-per-seq", s -> s.chunksPerSeq);
        m.put("packing", s -> s.packing.configName());
        m.put("add-bos", s -> s.addBos);
        m.put("add-eos", s -> s.addEos);
        m.put("seed", s -> s.seed);
        m.put("partitions", s -> s.partitions);
        m.put("shards", s -> s.shards);
        m.put("rows-per-batch", s -> s.rowsPerBatch);
        m.put("master", s -> s.master);
        m.put("eval-fraction", s -> s.evalFraction);
        m.put("eval-output", s -> s.evalFraction > 0 ? Redact.uri(s.evalOutputPath()) : "");
        return Collections.unmodifiableMap(m);
    }

    /**
     * Every setting that changes the bytes of the shards (not input/output locations, mode, partitions or master),
     * for a dataset version's fingerprint; the tokenizer's identity is added by the plan.
     */
    public SortedMap<String, Object> producerSettings() {
        SortedMap<String, Object> m = new TreeMap<>();
        m.put("format", format.configName());
        if (format.hasTextField()) {
            m.put("text-field", textField);
        }
        m.put("chunk-size", chunkSize);
        m.put("chunks-per-seq", chunksPerSeq);
        m.put("packing", packing.configName());
        m.put("add-bos", addBos);
        m.put("add-eos", addEos);
        m.put("seed", seed);
        m.put("shards", shards);
        m.put("rows-per-batch", rowsPerBatch);
        m.put("eval-fraction", evalFraction);
        return m;
    }

    /** The same settings with the resolved shard count (auto replaced by the number actually used). */
    public TokenizeSettings withShards(int resolvedShards) {
        return new TokenizeSettings(input, format, textField, output, mode, overwrite, tokenizer, specialTokens, chunkSize,
                chunksPerSeq, packing, addBos, addEos, seed, partitions, resolvedShards, rowsPerBatch, master,
                evalFraction, evalOutput);
    }
}
