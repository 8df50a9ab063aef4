package ai.chunkwise.train.loop;

import ai.chunkwise.pipeline.config.StrictConfig;
import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.engine.KvCacheDtype;
import ai.chunkwise.train.engine.Method;
import ai.chunkwise.train.data.SourceSpec;
import ai.chunkwise.train.engine.SpacoSampling;
import ai.chunkwise.train.storage.RemoteOutput;
import ai.chunkwise.train.memory.MemoryBudget;
import ai.chunkwise.train.optim.AdamW;
import ai.chunkwise.train.optim.LearningRateSchedule;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import ai.chunkwise.pipeline.config.ConfFiles;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything {@code train} needs, read from Typesafe Config layers: command-line overrides over a --conf file
 * over the built-in defaults (conf/train.conf, packaged as {@value #DEFAULTS_RESOURCE}). Every key the user sets
 * must exist in the defaults; a misspelled one fails naming the key. Values are validated here, at start-up, one
 * record per section of the file: {@code train.data}, {@code train.model} (with {@code train.lora}),
 * {@code train.method}, {@code train.optimizer}, the checkpoints ({@code checkpoint-every}, {@code keep-checkpoints},
 * {@code train.save}), {@code train.eval}, {@code train.memory}, and where the steps run ({@code train.distributed},
 * {@code train.spark}); the batch geometry, the step count and the output are the top-level keys of {@code train}.
 *
 * @param output         where the run writes: train.output itself, or a local staging directory for a remote one
 * @param outputLocation train.output as the user gave it
 * @param rendered       the whole {@code train} block as resolved, written into every checkpoint
 */
public record TrainSettings(
        Data data, Model model, MethodSection method, Optimizer optimizer, Checkpoints checkpoints, EvalSettings eval,
        MemoryBudget memory, DistributedSettings distributed, int batchSize, int accumulationSteps, long steps, long logEvery, long maxNonFiniteSteps,
        Path output, String outputLocation, String rendered) {

    /** {@code train.data}: what to read, in which order, and how strictly. */
    public record Data(List<SourceSpec> sources, long maxSequences, boolean verifyChecksums, boolean shuffle,
                       int shuffleBuffer, long seed, boolean documentBoundaries, boolean checkTokenizer) {
    }

    /**
     * {@code train.model} and {@code train.lora}: the model to start from (a Hugging Face directory, or a
     * config.json and random weights), its compute type, and the LoRA adapter (null: full fine-tuning).
     *
     * @param path     train.model.path as a local directory (a remote one fetched), or null
     * @param location train.model.path as the user gave it, or null
     */
    public record Model(Path path, String location, Path initConfig, long initSeed, double initStd,
                        DataType dataType, long gcThresholdMb, LoraConfig lora, long loraSeed) {
        public Model {
            if ((path == null) == (initConfig == null)) {
                throw new IllegalArgumentException("set exactly one of train.model.path (a Hugging Face model "
                        + "directory to fine-tune) and train.model.init-config (a config.json to train from scratch); "
                        + "got " + (path == null ? "neither" : "both"));
            }
            if (lora != null && path == null) {
                throw new IllegalArgumentException("train.lora.enabled = true needs train.model.path: adapting a "
                        + "randomly initialised base model is pointless; train from scratch with full fine-tuning");
            }
            if (!(initStd > 0)) {
                throw new IllegalArgumentException("train.model.init-std must be > 0, got " + initStd);
            }
        }

        /** train.model.dtype as the user writes it: "float32" or "float64". */
        public String dtypeName() {
            return dataType == DataType.DOUBLE ? "float64" : "float32";
        }
    }

    /**
     * {@code train.method}: the gradient method as the engine's {@link EngineSpec} takes it, checked by
     * {@link EngineSpec} itself when the settings are read (so a bad budget or sampling fails at start-up, naming
     * train.method), and the seed of its random draws.
     *
     * @param chunkSize tokens per chunk; 0: the dataset's chunk size, known once it is opened ({@link #engineSpec})
     * @param kvCache   train.method.kv-cache-dtype: the K/V cache and its gradient buffer in the compute dtype
     *                  (exact) or in bfloat16 (half the memory of float32, rounded)
     */
    public record MethodSection(Method name, int chunkSize, double budget, SpacoSampling sampling, long seed,
                                KvCacheDtype kvCache) {
        public MethodSection {
            if (chunkSize < 0) {
                throw new IllegalArgumentException("'train.method.chunk-size' must be >= 0 (0 = the dataset's), got "
                        + chunkSize);
            }
            if (kvCache == null) {
                kvCache = KvCacheDtype.COMPUTE;
            }
            if (!name.chunked() && kvCache != KvCacheDtype.COMPUTE) {
                throw new IllegalArgumentException("train.method.kv-cache-dtype = " + kvCache + " applies to seco and "
                        + "spaco only: train.method.name = " + name + " keeps no K/V cache; set kv-cache-dtype = compute");
            }
            // the method, budget, sampling and cache type now; the chunk size once known
            spec(name, 1, budget, sampling, kvCache);
        }

        /** With the K/V cache in the compute dtype. */
        public MethodSection(Method name, int chunkSize, double budget, SpacoSampling sampling, long seed) {
            this(name, chunkSize, budget, sampling, seed, KvCacheDtype.COMPUTE);
        }

        /**
         * The gradient engine this run uses; {@code datasetChunkSize} stands in for train.method.chunk-size = 0.
         * Invalid combinations fail here with the configuration key to fix.
         */
        public EngineSpec engineSpec(int datasetChunkSize) {
            return spec(name, chunkSize == 0 ? datasetChunkSize : chunkSize, budget, sampling, kvCache);
        }

        private static EngineSpec spec(Method name, int chunkSize, double budget, SpacoSampling sampling,
                                       KvCacheDtype kvCache) {
            try {
                return new EngineSpec(name, chunkSize, budget, sampling, kvCache);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("train.method: " + e.getMessage());
            }
        }

        /** SpaCO's expected chunks back-propagated per optimizer step, for the report; NaN for the other methods. */
        public double chunksPerStep(int accumulationSteps) {
            return name.sampled() ? budget * accumulationSteps : Double.NaN;
        }
    }

    /** {@code train.optimizer}: AdamW, its warm-up + cosine learning rate, and global-norm clipping (0 = off). */
    public record Optimizer(double lr, double minLr, long warmupSteps, double beta1, double beta2, double eps,
                            double weightDecay, double maxGradNorm) {
        public Optimizer {
            if (!(maxGradNorm >= 0)) {
                throw new IllegalArgumentException("train.optimizer.max-grad-norm must be >= 0 (0 = off), got "
                        + maxGradNorm);
            }
        }

        /** A fresh AdamW with these moments, epsilon and weight decay. */
        public AdamW adamW() {
            return new AdamW(beta1, beta2, eps, weightDecay);
        }

        /** Warm-up + cosine from {@code lr} to {@code minLr} over a run of {@code steps}. */
        public LearningRateSchedule schedule(long steps) {
            return new LearningRateSchedule(lr, minLr, warmupSteps, steps);
        }
    }

    /**
     * The checkpoints: {@code train.checkpoint-every} (0: only the last step), {@code train.keep-checkpoints}, and
     * the model files each one exports ({@code train.save}).
     */
    public record Checkpoints(long every, int keep, String saveDtype, long saveMaxShardBytes) {
        public Checkpoints {
            new ModelExport(saveDtype, saveMaxShardBytes, null, null);   // validates both keys
        }

        /** How a checkpoint's model files are written, for a model from {@code source} (null: from scratch). */
        public ModelExport export(Path source, Path tokenizerFiles) {
            return new ModelExport(saveDtype, saveMaxShardBytes, source, tokenizerFiles);
        }
    }

    /** Whether train.output is on a non-local Hadoop file system ({@link #output} is then a local staging directory). */
    public boolean remoteOutput() {
        return RemoteOutput.isRemote(outputLocation);
    }

    /**
     * The base model as adapter_config.json's base_model_name_or_path records it: train.model.path as the user gave
     * it (a remote URI as it is), an absolute path under the working directory made relative to it, so the adapter
     * is not tied to one machine's directory layout; null when training from scratch.
     */
    public String baseModelName() {
        String location = model.location();
        if (location == null || Locations.isRemote(location)) {
            return location;
        }
        Path given = Locations.localPath(location);
        Path cwd = Path.of("").toAbsolutePath();
        if (given.isAbsolute() && given.normalize().startsWith(cwd) && !given.normalize().equals(cwd)) {
            return cwd.relativize(given.normalize()).toString();
        }
        return given.toString();
    }

    public static final String DEFAULTS_RESOURCE = "ai/chunkwise/train/train.conf";

    /** Loads {@code confFile} (may be null) with {@code overrides} (config path -> value, strings parsed as HOCON). */
    public static TrainSettings load(Path confFile, Map<String, String> overrides) {
        Config defaults = ConfigFactory.parseResources(TrainSettings.class.getClassLoader(), DEFAULTS_RESOURCE,
                ConfigParseOptions.defaults().setAllowMissing(false));
        Set<String> known = new LinkedHashSet<>();
        defaults.entrySet().forEach(e -> known.add(e.getKey()));

        Config file = ConfigFactory.empty();
        if (confFile != null) {
            if (!Files.isRegularFile(confFile)) {
                throw new IllegalArgumentException("config file " + confFile + " does not exist");
            }
            file = ConfFiles.parse(confFile.toFile());   // its includes must exist (a missing one is an error)
            StrictConfig.rejectUnknownKeys(file.resolve(), known, "config file " + confFile);
        }
        Config command = ConfigFactory.empty();
        for (Map.Entry<String, String> o : overrides.entrySet()) {   // one by one: an error names its key
            try {
                command = ConfigFactory.parseString(o.getKey() + " = " + ConfFiles.overrideValue(o.getValue()) + "\n",
                        ConfigParseOptions.defaults().setOriginDescription("--set " + o.getKey())).withFallback(command);
            } catch (ConfigException e) {
                throw new IllegalArgumentException("command-line override " + o.getKey() + "=" + o.getValue()
                        + " does not parse (" + e.getMessage() + "); " + ConfFiles.quoteHint(o.getKey()), e);
            }
        }
        StrictConfig.rejectUnknownKeys(command, known, "the command line");
        Config c = command.withFallback(file).withFallback(defaults).resolve(ConfigResolveOptions.defaults());
        try {
            return from(c);
        } catch (ConfigException e) {
            throw new IllegalArgumentException("configuration error: " + e.getMessage(), e);
        }
    }

    private static TrainSettings from(Config root) {
        Config t = root.getConfig("train");
        Config d = t.getConfig("data");
        Config m = t.getConfig("model");
        Config l = t.getConfig("lora");
        Config me = t.getConfig("method");
        Config o = t.getConfig("optimizer");

        Data data = new Data(sources(d), nonNegative(root, "train.data.max-sequences"), d.getBoolean("verify-checksums"),
                d.getBoolean("shuffle"), intValue("train.data.shuffle-buffer", positive(root, "train.data.shuffle-buffer")),
                wholeNumber(root, "train.data.seed"), d.getBoolean("document-boundaries"), d.getBoolean("check-tokenizer"));
        DataType dt = switch (m.getString("dtype")) {
            case "float32" -> DataType.FLOAT;
            case "float64" -> DataType.DOUBLE;
            default -> throw new IllegalArgumentException("train.model.dtype must be float32 or float64, got '"
                    + m.getString("dtype") + "'");
        };
        LoraConfig lora = !l.getBoolean("enabled") ? null : new LoraConfig(
                intValue("train.lora.rank", positive(root, "train.lora.rank")), l.getDouble("alpha"), l.getStringList("targets"));
        Model model = new Model(optionalPath(m, "path"), optionalLocation(m, "path"), optionalPath(m, "init-config"),
                wholeNumber(root, "train.model.init-seed"), m.getDouble("init-std"), dt,
                nonNegative(root, "train.model.gc-threshold-mb"), lora, wholeNumber(root, "train.lora.seed"));
        Method method;
        try {
            method = Method.parse(me.getString("name"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train.method.name must be " + Method.names() + ", got '"
                    + me.getString("name") + "'");
        }
        KvCacheDtype kvCache;
        try {
            kvCache = KvCacheDtype.parse(me.getString("kv-cache-dtype"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("train.method.kv-cache-dtype must be compute or bfloat16, got '"
                    + me.getString("kv-cache-dtype") + "'");
        }
        if (kvCache == KvCacheDtype.BFLOAT16 && dt == DataType.DOUBLE) {
            throw new IllegalArgumentException("train.method.kv-cache-dtype = bfloat16 with train.model.dtype = "
                    + "float64: a float64 run is the exact reference, and rounding its K/V cache to bfloat16 defeats "
                    + "it; use kv-cache-dtype = compute, or dtype = float32 to save memory");
        }
        MethodSection methodSection = new MethodSection(method,
                intValue("train.method.chunk-size", nonNegative(root, "train.method.chunk-size")), me.getDouble("budget"),
                SpacoSampling.parse(me.getString("sampling")), wholeNumber(root, "train.method.seed"), kvCache);
        long steps = intValue("train.steps", positive(root, "train.steps"));
        Optimizer optimizer = new Optimizer(learningRate(root, "train.optimizer.lr", false),
                learningRate(root, "train.optimizer.min-lr", true),
                intValue("train.optimizer.warmup-steps", nonNegative(root, "train.optimizer.warmup-steps")),
                o.getDouble("beta1"), o.getDouble("beta2"), o.getDouble("eps"), o.getDouble("weight-decay"),
                o.getDouble("max-grad-norm"));
        if (optimizer.warmupSteps() > steps) {
            throw new IllegalArgumentException("train.optimizer.warmup-steps (" + optimizer.warmupSteps()
                    + ") exceeds train.steps (" + steps + ")");
        }
        Checkpoints checkpoints = new Checkpoints(
                intValue("train.checkpoint-every", nonNegative(root, "train.checkpoint-every")),
                intValue("train.keep-checkpoints", nonNegative(root, "train.keep-checkpoints")),
                t.getString("save.dtype"), t.getBytes("save.max-shard-size"));
        return new TrainSettings(data, model, methodSection, optimizer, checkpoints, EvalSettings.from(t),
                MemoryBudget.of(root), DistributedSettings.from(t),
                intValue("train.batch-size", positive(root, "train.batch-size")),
                intValue("train.accumulation-steps", positive(root, "train.accumulation-steps")), steps,
                intValue("train.log-every", positive(root, "train.log-every")),
                intValue("train.max-nonfinite-steps", nonNegative(root, "train.max-nonfinite-steps")),
                localOutput(t.getString("output")), t.getString("output"),
                root.withOnlyPath("train").root().render(ConfigRenderOptions.defaults().setOriginComments(false)));
    }

    /** A plain path or file: URI as it is; a remote location (hdfs://, s3a://) by its local staging directory. */
    private static Path localOutput(String location) {
        return RemoteOutput.isRemote(location) ? RemoteOutput.stagingDirOf(location) : RemoteOutput.localPath(location);
    }

    /** train.data.dataset (one source) or train.data.sources (several, weighted): exactly one of them. */
    private static List<SourceSpec> sources(Config d) {
        String single = d.getString("dataset").trim();
        List<? extends ConfigObject> list = d.getObjectList("sources");
        if (single.isEmpty() == list.isEmpty()) {
            throw new IllegalArgumentException(single.isEmpty()
                    ? "train.data.dataset is not set: name the dataset directory to train on (or several in train.data.sources)"
                    : "set one of train.data.dataset and train.data.sources, not both");
        }
        if (!single.isEmpty()) {
            return List.of(new SourceSpec(single, 1.0));
        }
        List<SourceSpec> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            ConfigObject o = list.get(i);
            String where = "train.data.sources[" + i + "]";
            for (String key : o.keySet()) {
                if (!key.equals("path") && !key.equals("weight")) {
                    throw new IllegalArgumentException(where + " has unknown key '" + key + "' (" + o.origin().description()
                            + "); a source is {path = \"...\", weight = 1.0}");
                }
            }
            Config c = o.toConfig();
            if (!c.hasPath("path") || c.getString("path").isBlank()) {
                throw new IllegalArgumentException(where + " has no path: a source is {path = \"...\", weight = 1.0}");
            }
            double weight = c.hasPath("weight") ? c.getDouble("weight") : 1.0;
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException(where + ".weight must be a finite number > 0, got " + weight);
            }
            out.add(new SourceSpec(c.getString("path").trim(), weight));
        }
        return List.copyOf(out);
    }

    /** A model input: a local path as it is, a remote one (hdfs://, s3a://) by a local copy ({@link Locations#fetch}). */
    private static Path optionalPath(Config c, String key) {
        String v = optionalLocation(c, key);
        return v == null ? null : Locations.fetch("train.model." + key, v, new org.apache.hadoop.conf.Configuration());
    }

    private static String optionalLocation(Config c, String key) {
        String v = c.getString(key).trim();
        return v.isEmpty() ? null : v;
    }

    /**
     * A whole number: Typesafe Config's getLong would truncate 2.7 to 2 silently, and a (int) cast would wrap
     * 2^32 + 1 to 1.
     */
    private static long wholeNumber(Config c, String key) {
        Number n = c.getNumber(key);
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d) || Math.abs(d) >= 0x1p63) {
                throw new IllegalArgumentException("'" + key + "' must be a whole number, got " + n);
            }
            return (long) d;
        }
        return n.longValue();
    }

    /** Counts (of steps, rows, ranks ...) are ints: a larger value is a typo, never a plan (2^31 steps take years). */
    private static int intValue(String key, long v) {
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("'" + key + "' is " + v + ", above the largest supported value "
                    + Integer.MAX_VALUE);
        }
        return (int) v;
    }

    /**
     * AdamW moves every weight by up to about lr per step, so a learning rate above 1 wrecks any model at once;
     * 1e400 parses as infinity, which would poison every weight at step 1. {@code train.optimizer.lr} must be
     * above 0 (a run that cannot learn is a mistake); {@code min-lr}, the end of the cosine decay, may be 0.
     */
    private static double learningRate(Config c, String key, boolean zeroAllowed) {
        double v = c.getDouble(key);
        if (!(v <= 1) || (zeroAllowed ? v < 0 : v <= 0)) {
            throw new IllegalArgumentException("'" + key + "' must be a number in " + (zeroAllowed ? "[0, 1]" : "(0, 1]")
                    + " (AdamW's step size; usual values 1e-5 to 1e-2), got " + c.getValue(key).render());
        }
        return v;
    }

    private static long nonNegative(Config c, String key) {
        long v = wholeNumber(c, key);
        if (v < 0) {
            throw new IllegalArgumentException("'" + key + "' must be >= 0, got " + v);
        }
        return v;
    }

    private static long positive(Config c, String key) {
        long v = wholeNumber(c, key);
        if (v < 1) {
            throw new IllegalArgumentException("'" + key + "' must be >= 1, got " + v);
        }
        return v;
    }
}
