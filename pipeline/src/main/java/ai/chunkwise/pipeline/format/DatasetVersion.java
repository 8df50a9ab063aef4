package ai.chunkwise.pipeline.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Which version of a dataset a manifest describes, and the fingerprint of what produced it.
 *
 * <p>A dataset directory holds versions: each version's new shards are immutable files under {@code vNNNN/},
 * {@code manifest.json} is the newest complete version's manifest (written last, atomically), and every
 * published version's manifest is kept as {@code versions/vNNNN.json}. An incremental run adds an increment
 * (the new input files, tokenized into new shards) and lists the old and new shards together.
 *
 * @param number      1, 2, ... (a version never reuses a number)
 * @param producer    everything except the input files that changes the bytes: tokenizer identity (vocabulary
 *                    SHA-256 and special ids), input format and field, geometry, packing, BOS/EOS, seed, shard
 *                    setting, rows per batch
 * @param increments  the runs that built this version's shards, oldest first, each with its input files
 * @param fingerprint SHA-256 of the producer and the increments (see {@link #fingerprintOf})
 */
public record DatasetVersion(int number, String fingerprint, SortedMap<String, Object> producer,
                             List<Increment> increments) {

    public static final String DIR_PREFIX = "v";
    public static final String VERSIONS_DIR = "versions";

    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    public DatasetVersion {
        if (number < 1) {
            throw new IllegalArgumentException("dataset version number must be >= 1, got " + number);
        }
        producer = new TreeMap<>(producer);
        increments = List.copyOf(increments);
    }

    /** A version with its fingerprint computed. */
    public static DatasetVersion of(int number, SortedMap<String, Object> producer, List<Increment> increments) {
        return new DatasetVersion(number, fingerprintOf(producer, increments), producer, increments);
    }

    /** SHA-256 of the canonical JSON (keys sorted) of the producer and the increments. */
    public static String fingerprintOf(SortedMap<String, Object> producer, List<Increment> increments) {
        Map<String, Object> m = new TreeMap<>();
        m.put("producer", producer);
        m.put("increments", increments.stream().map(Increment::toMap).toList());
        try {
            byte[] json = CANONICAL.writeValueAsString(m).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("dataset producer is not JSON-serializable: " + e.getOriginalMessage(), e);
        }
    }

    /** Directory of a version's shards, relative to the dataset directory: {@code v0001}. */
    public static String dirName(int number) {
        return String.format("%s%04d", DIR_PREFIX, number);
    }

    /** Where a version's manifest is kept, relative to the dataset directory: {@code versions/v0001.json}. */
    public static String manifestPath(int number) {
        return VERSIONS_DIR + "/" + dirName(number) + ".json";
    }

    /** The number in a version directory or manifest name ({@code v0012}, {@code v0012.json}), or -1. */
    public static int numberOf(String name) {
        String n = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        if (!n.startsWith(DIR_PREFIX) || n.length() < 5 || !n.substring(1).chars().allMatch(Character::isDigit)) {
            return -1;
        }
        try {
            return Integer.parseInt(n.substring(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Whether a file name and its directory's name make a kept version manifest ({@code versions/vNNNN.json}). */
    public static boolean isVersionManifestName(String fileName, String parentName) {
        return fileName.endsWith(".json") && numberOf(fileName) > 0 && VERSIONS_DIR.equals(parentName);
    }

    /** Every input file of every increment, by path. */
    public Map<String, InputFile> inputFiles() {
        Map<String, InputFile> m = new LinkedHashMap<>();
        increments.forEach(inc -> inc.files().forEach(f -> m.put(f.path(), f)));
        return m;
    }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("number", number);
        m.put("fingerprint", fingerprint);
        m.put("producer", producer);
        m.put("increments", increments.stream().map(Increment::toMap).toList());
        return m;
    }

    @SuppressWarnings("unchecked")
    static DatasetVersion fromJson(JsonNode node, String source) {
        try {
            int number = node.path("number").asInt(-1);
            String fingerprint = node.path("fingerprint").asText(null);
            SortedMap<String, Object> producer = new TreeMap<>(CANONICAL.convertValue(node.path("producer"), Map.class));
            List<Increment> increments = new ArrayList<>();
            for (JsonNode inc : node.path("increments")) {
                List<InputFile> files = new ArrayList<>();
                for (JsonNode f : inc.path("files")) {
                    files.add(new InputFile(f.path("path").asText(), f.path("bytes").asLong(), f.path("mtime").asLong()));
                }
                increments.add(new Increment(inc.path("version").asInt(), inc.path("shards").asInt(), files));
            }
            if (fingerprint == null) {
                throw new IllegalArgumentException("no fingerprint");
            }
            return new DatasetVersion(number, fingerprint, producer, increments);
        } catch (IllegalArgumentException e) {
            throw new DatasetException(source + ": invalid dataset_version (" + e.getMessage()
                    + "); the manifest is corrupt: re-run the tokenize job with --overwrite");
        }
    }

    /**
     * One run that added shards.
     *
     * @param version the version it published
     * @param shards  how many shards it wrote (under {@code vNNNN/})
     * @param files   the input files it tokenized
     */
    public record Increment(int version, int shards, List<InputFile> files) {
        public Increment {
            files = List.copyOf(files);
        }

        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("version", version);
            m.put("shards", shards);
            m.put("files", files.stream().map(InputFile::toMap).toList());
            return m;
        }
    }

    /**
     * An input file as it was when tokenized.
     *
     * @param path  relative to the input root (the document identity uses the same key)
     * @param mtime modification time in milliseconds, as the file system reports it
     */
    public record InputFile(String path, long bytes, long mtime) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("path", path);
            m.put("bytes", bytes);
            m.put("mtime", mtime);
            return m;
        }
    }
}
