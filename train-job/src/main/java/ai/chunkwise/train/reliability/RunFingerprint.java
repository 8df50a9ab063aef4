package ai.chunkwise.train.reliability;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import ai.chunkwise.train.checkpoint.CheckpointChecksums;
import ai.chunkwise.train.data.SourceSpec;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a checkpoint was produced from, by content rather than by path: the dataset (SHA-256 of its
 * manifest.json, which lists every shard's SHA-256) and the model it started from (SHA-256 of the init config,
 * or of the base model's config.json plus the names and sizes of its weight files). Stored in every checkpoint as
 * {@value #FILE_NAME}, so that {@code --resume} can tell a moved dataset (same content) from a different one.
 *
 * @param identities config key -> content identity (only keys whose value is a path to content)
 */
public record RunFingerprint(Map<String, String> identities) {
    public static final String FILE_NAME = "fingerprint.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The fingerprint of what a run's settings name, read from the files now. It takes the three locations
     * rather than the settings record, so that reliability stays below the training loop that owns the settings.
     *
     * @param sources    the training data (train.data.dataset or train.data.sources)
     * @param initConfig train.model.init-config, or null
     * @param modelPath  train.model.path (its local copy), or null
     */
    public static RunFingerprint of(List<SourceSpec> sources, Path initConfig, Path modelPath) {
        Map<String, String> m = new LinkedHashMap<>();
        // every source's manifest (on any Hadoop file system) with its weight; under both keys, so that moving
        // a dataset between train.data.dataset and train.data.sources is no change either
        String data = dataIdentity(sources);
        m.put("train.data.dataset", data);
        m.put("train.data.sources", data);
        if (initConfig != null) {
            m.put("train.model.init-config", Files.isRegularFile(initConfig)
                    ? CheckpointChecksums.sha256(initConfig) : "missing");
        }
        if (modelPath != null) {
            m.put("train.model.path", modelIdentity(modelPath));
        }
        return new RunFingerprint(m);
    }

    /** config.json's SHA-256 and every *.safetensors file's name and size: cheap, and changes when the model does. */
    private static String modelIdentity(Path dir) {
        StringBuilder b = new StringBuilder();
        Path config = dir.resolve("config.json");
        b.append(Files.isRegularFile(config) ? CheckpointChecksums.sha256(config) : "no-config");
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().forEach(p -> {
                try {
                    b.append(';').append(p.getFileName()).append('=').append(Files.size(p));
                } catch (IOException e) {
                    b.append(';').append(p.getFileName()).append("=?");
                }
            });
        } catch (IOException e) {
            b.append(";unlisted");
        }
        return b.toString();
    }

    /** SHA-256 of each source's manifest.json (which lists every shard's SHA-256) and its weight. */
    private static String dataIdentity(List<SourceSpec> sources) {
        org.apache.hadoop.conf.Configuration conf = ai.chunkwise.train.data.HadoopEnvironment.configuration();
        StringBuilder b = new StringBuilder();
        for (SourceSpec src : sources) {
            b.append(b.length() == 0 ? "" : ";").append(manifestSha256(src.path(), conf)).append('@').append(src.weight());
        }
        return b.toString();
    }

    private static String manifestSha256(String location, org.apache.hadoop.conf.Configuration conf) {
        try {
            org.apache.hadoop.fs.Path manifest = new org.apache.hadoop.fs.Path(
                    ai.chunkwise.pipeline.format.DatasetLocation.qualify(location, conf), "manifest.json");
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            try (java.io.InputStream in = ai.chunkwise.pipeline.format.DatasetLocation.fileSystem(manifest, conf).open(manifest)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                }
            }
            return java.util.HexFormat.of().formatHex(sha.digest());
        } catch (IOException | RuntimeException e) {
            return "missing";   // the dataset reader reports it with its own message
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path checkpointDir) {
        ObjectNode o = JSON.createObjectNode();
        identities.forEach(o::put);
        AtomicFiles.writeString(checkpointDir.resolve(FILE_NAME), o.toPrettyString() + "\n");
    }

    /** The checkpoint's fingerprint, or null for a checkpoint written before fingerprints existed. */
    public static RunFingerprint read(Path checkpointDir) {
        Path f = checkpointDir.resolve(FILE_NAME);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            JsonNode n = JSON.readTree(f.toFile());
            Map<String, String> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
            return new RunFingerprint(m);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + " is not valid JSON (" + e.getMessage() + "): the checkpoint is damaged");
        }
    }
}
