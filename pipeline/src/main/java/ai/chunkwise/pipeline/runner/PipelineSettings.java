package ai.chunkwise.pipeline.runner;

import ai.chunkwise.pipeline.config.StrictConfig;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import ai.chunkwise.pipeline.config.ConfFiles;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The runner's configuration: a pipeline .conf file over the built-in defaults (conf/pipeline.conf, packaged as
 * {@value #DEFAULTS_RESOURCE}); an unknown key fails naming it. Paths are relative to the working directory;
 * the dataset and the training output may be any Hadoop file system path ({@code hdfs://...}, {@code s3a://...}).
 */
public record PipelineSettings(String java, List<String> javaOptions, Map<String, String> environment, String dataset,
                               Path tokenizeJar, Path tokenizeConf, List<String> tokenizeArgs, String sparkSubmit,
                               List<String> sparkArgs, Path trainJar, Path trainConf, String trainOutput,
                               List<String> trainArgs, String trainSparkSubmit, List<String> trainSparkArgs) {

    public static final String DEFAULTS_RESOURCE = "ai/chunkwise/pipeline/pipeline.conf";

    public static PipelineSettings load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("pipeline configuration " + file + " does not exist");
        }
        Config defaults = ConfigFactory.parseResources(PipelineSettings.class.getClassLoader(), DEFAULTS_RESOURCE,
                ConfigParseOptions.defaults().setAllowMissing(false));
        Set<String> known = new LinkedHashSet<>();
        defaults.entrySet().forEach(e -> known.add(e.getKey()));
        known.add("pipeline.environment");   // free-form: any variable name
        Config user = ConfFiles.parse(file.toFile());   // its includes must exist
        StrictConfig.rejectUnknownKeys(user.resolve(), known, "pipeline configuration " + file);
        Config p = user.withFallback(defaults).resolve().getConfig("pipeline");
        try {
            Map<String, String> env = new LinkedHashMap<>();
            p.getConfig("environment").entrySet().forEach(e -> env.put(e.getKey(), String.valueOf(e.getValue().unwrapped())));
            Config t = p.getConfig("tokenize");
            Config tr = p.getConfig("train");
            return new PipelineSettings(p.getString("java"), p.getStringList("java-options"), env,
                    requiredString(p, "dataset", file), required(t, "jar", file), required(t, "conf", file),
                    t.getStringList("args"), t.getString("spark-submit"), t.getStringList("spark-args"),
                    required(tr, "jar", file), required(tr, "conf", file), requiredString(tr, "output", file),
                    tr.getStringList("args"), tr.getString("spark-submit"), tr.getStringList("spark-args"));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("pipeline configuration " + file + ": " + e.getMessage(), e);
        }
    }

    private static Path required(Config c, String key, Path file) {
        return Path.of(requiredString(c, key, file));
    }

    private static String requiredString(Config c, String key, Path file) {
        String v = c.getString(key).trim();
        if (v.isEmpty()) {
            throw new IllegalArgumentException("pipeline configuration " + file + " does not set " + key
                    + " (see conf/pipeline.conf)");
        }
        return v;
    }
}
