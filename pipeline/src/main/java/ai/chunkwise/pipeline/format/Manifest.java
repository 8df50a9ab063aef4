package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackingPolicy;
import ai.chunkwise.pipeline.tokenizer.TokenizerInfo;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * {@code manifest.json}: the config that produced a dataset, its counts, and every shard with size and
 * SHA-256. Written last and atomically, so a directory without a manifest is not a dataset.
 *
 * @param config the producing job's effective configuration (JSON-compatible values: strings, numbers,
 *               booleans, lists, maps)
 */
public record Manifest(int formatVersion, String createdBy, DatasetHeader header, SortedMap<String, Object> config,
                       DatasetCounts counts, List<ShardEntry> shards, DatasetVersion datasetVersion) {

    public static final String FILE_NAME = "manifest.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final java.util.regex.Pattern SHA256 = java.util.regex.Pattern.compile("[0-9a-fA-F]{64}");

    public Manifest {
        Objects.requireNonNull(createdBy, "createdBy");
        Objects.requireNonNull(header, "header");
        Objects.requireNonNull(counts, "counts");
        config = Collections.unmodifiableSortedMap(new TreeMap<>(Objects.requireNonNull(config, "config")));
        shards = List.copyOf(shards);
    }

    /** A manifest without version information (written by tests and by tools that write one version only). */
    public Manifest(int formatVersion, String createdBy, DatasetHeader header, SortedMap<String, Object> config,
                    DatasetCounts counts, List<ShardEntry> shards) {
        this(formatVersion, createdBy, header, config, counts, shards, null);
    }

    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("format_version", formatVersion);
        root.put("created_by", createdBy);
        ObjectNode h = root.putObject("header");
        h.put("format_version", header.formatVersion());
        putGeometry(h, header);
        root.set("config", JSON.valueToTree(config));
        putCounts(root, counts);
        putShards(root, shards);
        if (datasetVersion != null) {
            root.set("dataset_version", JSON.valueToTree(datasetVersion.toMap()));
        }
        try {
            return JSON.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("manifest config is not JSON-serializable: " + e.getOriginalMessage(), e);
        }
    }

    /** The tokenizer and sequence geometry of a header, as the manifest and the inspector render them. */
    static void putGeometry(ObjectNode node, DatasetHeader header) {
        TokenizerInfo t = header.tokenizer();
        ObjectNode tok = node.putObject("tokenizer");
        tok.put("name", t.name());
        tok.put("vocab_size", t.vocabSize());
        tok.put("bos_id", t.bosId());
        tok.put("eos_id", t.eosId());
        tok.put("pad_id", t.padId());
        tok.put("vocab_hash", t.vocabHash());
        node.put("chunk_size", header.chunkSize());
        node.put("chunks_per_seq", header.chunksPerSeq());
        node.put("seq_len", header.seqLen());
        node.put("packing", header.packing().configName());
    }

    static void putCounts(ObjectNode node, DatasetCounts counts) {
        ObjectNode c = node.putObject("counts");
        c.put("documents_read", counts.documentsRead());
        ObjectNode skipped = c.putObject("documents_skipped");
        counts.documentsSkipped().forEach(skipped::put);
        c.put("tokens", counts.tokens());
        c.put("padding_tokens", counts.paddingTokens());
        c.put("sequences", counts.sequences());
    }

    static void putShards(ObjectNode node, List<ShardEntry> shards) {
        ArrayNode list = node.putArray("shards");
        for (ShardEntry s : shards) {
            ObjectNode e = list.addObject();
            e.put("path", s.path());
            e.put("rows", s.rows());
            e.put("tokens", s.tokens());
            e.put("bytes", s.bytes());
            e.put("sha256", s.sha256());
        }
    }

    /**
     * Parses a manifest.
     *
     * @param sourceForErrors names the file in error messages
     * @throws DatasetException naming the source and the missing or malformed field
     */
    public static Manifest fromJson(String json, String sourceForErrors) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException e) {
            throw new DatasetException(sourceForErrors + " is not valid JSON (" + e.getMessage().lines().findFirst().orElse("")
                    + "); the dataset is corrupt: delete it and re-run the tokenize job");
        }
        Fields f = new Fields(sourceForErrors);
        try {
            int formatVersion = f.intOf(root, "format_version");
            JsonNode h = f.object(root, "header");
            JsonNode t = f.object(h, "tokenizer");
            TokenizerInfo tokenizer = new TokenizerInfo(f.text(t, "name"), f.intOf(t, "vocab_size"), f.intOf(t, "bos_id"),
                    f.intOf(t, "eos_id"), f.intOf(t, "pad_id"), f.text(t, "vocab_hash"));
            DatasetHeader header = new DatasetHeader(f.intOf(h, "format_version"), tokenizer, f.intOf(h, "chunk_size"),
                    f.intOf(h, "chunks_per_seq"), PackingPolicy.parse(f.text(h, "packing")));
            if (h.has("seq_len") && f.intOf(h, "seq_len") != header.seqLen()) {
                throw new DatasetException(sourceForErrors + ": header.seq_len " + f.intOf(h, "seq_len")
                        + " is not chunk_size x chunks_per_seq = " + header.seqLen());
            }
            SortedMap<String, Object> config = new TreeMap<>(JSON.convertValue(f.object(root, "config"), Map.class));
            JsonNode c = f.object(root, "counts");
            SortedMap<String, Long> skipped = new TreeMap<>();
            JsonNode skippedNode = f.object(c, "documents_skipped");
            for (var it = skippedNode.fields(); it.hasNext(); ) {
                var e = it.next();
                skipped.put(e.getKey(), f.longOf(skippedNode, e.getKey()));
            }
            DatasetCounts counts = new DatasetCounts(f.longOf(c, "documents_read"), skipped, f.longOf(c, "tokens"),
                    f.longOf(c, "padding_tokens"), f.longOf(c, "sequences"));
            JsonNode shardNodes = root.get("shards");
            if (shardNodes == null || !shardNodes.isArray()) {
                throw f.missing("shards", "an array");
            }
            List<ShardEntry> shards = new ArrayList<>();
            for (JsonNode s : shardNodes) {
                String path = f.text(s, "path");
                long rows = f.longOf(s, "rows");
                long tokens = f.longOf(s, "tokens");
                long bytes = f.longOf(s, "bytes");
                String sha = f.text(s, "sha256");
                if (!SHA256.matcher(sha).matches()) {
                    // a damaged record, not a damaged shard: say so before anything hashes the shard
                    throw new DatasetException(sourceForErrors + ": shard " + path
                            + " is listed with sha256 '" + sha + "', which is not a SHA-256 (64 hex digits); the "
                            + "manifest was edited or is damaged, not the shard: re-run the tokenize job with --overwrite");
                }
                shards.add(new ShardEntry(path, rows, tokens, bytes, sha));
            }
            DatasetVersion version = root.has("dataset_version")
                    ? DatasetVersion.fromJson(root.get("dataset_version"), sourceForErrors) : null;
            return new Manifest(formatVersion, f.text(root, "created_by"), header, config, counts, shards, version);
        } catch (IllegalArgumentException e) {
            throw new DatasetException(sourceForErrors + ": invalid manifest (" + e.getMessage() + ")", e);
        }
    }

    /** Writes {@code manifest.json.tmp}, forces it to disk, then renames it atomically to {@code manifest.json}. */
    public void writeAtomically(Path datasetDir) {
        Path tmp = datasetDir.resolve(FILE_NAME + ".tmp");
        Path target = datasetDir.resolve(FILE_NAME);
        try {
            Files.createDirectories(datasetDir);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(toJson().getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Typed field access with errors that name the source file and the field. */
    private record Fields(String source) {

        JsonNode object(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null || !n.isObject()) {
                throw missing(name, "an object");
            }
            return n;
        }

        String text(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null || !n.isTextual()) {
                throw missing(name, "a string");
            }
            return n.asText();
        }

        int intOf(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
                throw missing(name, "an integer");
            }
            return n.asInt();
        }

        long longOf(JsonNode parent, String name) {
            JsonNode n = parent.get(name);
            if (n == null || !n.canConvertToLong() || !n.isIntegralNumber()) {
                throw missing(name, "an integer");
            }
            return n.asLong();
        }

        DatasetException missing(String name, String what) {
            return new DatasetException(source + ": field '" + name + "' is missing or not " + what
                    + "; the manifest is corrupt or from an incompatible version: re-run the tokenize job");
        }
    }
}
