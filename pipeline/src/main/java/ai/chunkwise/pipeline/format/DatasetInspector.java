package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A verified summary of a dataset, for humans and for comparing two runs: the content digest depends
 * only on the token rows in order, not on how they were split into shards or batches.
 */
public final class DatasetInspector {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private DatasetInspector() {
    }

    /**
     * Opens (fully verifies) the dataset, reads every row and returns the summary as JSON.
     *
     * @throws DatasetException for a missing, incomplete or corrupt dataset
     */
    public static String summaryJson(Path datasetDir) {
        DatasetContentValidator.requireShardsInside(datasetDir);   // before any shard is opened
        return summaryJson(DatasetReader.open(datasetDir));
    }

    /** The same for a dataset on any Hadoop file system ({@link DatasetLocation}), fully verified. */
    public static String summaryJson(String location, org.apache.hadoop.conf.Configuration conf) {
        return summaryJson(DatasetReader.open(location, conf, DatasetReader.Verification.FULL));
    }

    private static String summaryJson(DatasetReader opened) {
        try (DatasetReader reader = opened) {
            Manifest m = reader.manifest();
            DatasetHeader h = m.header();
            DatasetContentValidator validator = new DatasetContentValidator(reader.displayName(), h);
            MessageDigest digest = sha256();
            ByteBuffer rowBytes = ByteBuffer.allocate(h.seqLen() * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            long rows = 0;
            long padding = 0;
            long targets = 0;
            long documentSegments = 0;
            for (Iterator<PackedSequence> it = reader.sequences(); it.hasNext(); ) {
                PackedSequence s = it.next();
                validator.check(s);
                rowBytes.clear();
                rowBytes.asIntBuffer().put(s.inputIds());
                digest.update(rowBytes.array());
                rows++;
                padding += s.padding();
                targets += s.targetCount();
                documentSegments += s.docStarts().length;
            }

            ObjectNode root = JSON.createObjectNode();
            root.put("dataset", reader.displayName());
            root.put("format_version", m.formatVersion());
            root.put("created_by", m.createdBy());
            Manifest.putGeometry(root, h);
            Manifest.putCounts(root, m.counts());
            root.put("rows_read", rows);
            root.put("document_segments", documentSegments);
            root.put("loss_targets", targets);
            long positions = rows * (long) h.seqLen();
            root.put("padding_fraction", positions == 0 ? 0.0 : (double) padding / positions);
            root.put("shard_count", m.shards().size());
            Manifest.putShards(root, m.shards());
            root.put("content_digest", HexFormat.of().formatHex(digest.digest()));
            putVersions(root, reader, m);
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render summary JSON", e);
        }
    }

    /** The version read and every kept version of the dataset (versions/vNNNN.json), oldest first. */
    private static void putVersions(ObjectNode root, DatasetReader reader, Manifest read) {
        if (read.datasetVersion() == null) {
            return;
        }
        root.put("dataset_version", read.datasetVersion().number());
        root.put("fingerprint", read.datasetVersion().fingerprint());
        ArrayNode list = root.putArray("versions");
        org.apache.hadoop.fs.FileSystem fs = reader.fileSystem();
        org.apache.hadoop.fs.Path versions = new org.apache.hadoop.fs.Path(reader.location(), DatasetVersion.VERSIONS_DIR);
        List<org.apache.hadoop.fs.Path> files = new ArrayList<>();
        try {
            if (!fs.exists(versions)) {
                return;
            }
            for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(versions)) {
                if (DatasetVersion.isVersionManifestName(st.getPath().getName(), DatasetVersion.VERSIONS_DIR)) {
                    files.add(st.getPath());
                }
            }
        } catch (IOException e) {
            throw new DatasetException("cannot list " + DatasetLocation.display(versions) + ": " + e.getMessage(), e);
        }
        files.sort(Comparator.comparingInt(p -> DatasetVersion.numberOf(p.getName())));
        for (org.apache.hadoop.fs.Path f : files) {
            ObjectNode v = list.addObject();
            v.put("manifest", DatasetVersion.VERSIONS_DIR + "/" + f.getName());
            try (java.io.InputStream in = fs.open(f)) {
                Manifest m = Manifest.fromJson(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                        DatasetLocation.display(f));
                v.put("version", m.datasetVersion() == null ? -1 : m.datasetVersion().number());
                v.put("shards", m.shards().size());
                v.put("sequences", m.counts().sequences());
                v.put("tokens", m.counts().tokens());
                v.put("input_files", m.datasetVersion() == null ? 0 : m.datasetVersion().inputFiles().size());
                v.put("fingerprint", m.datasetVersion() == null ? "" : m.datasetVersion().fingerprint());
                v.put("current", m.datasetVersion() != null && m.datasetVersion().number() == read.datasetVersion().number());
                // false for a version replaced by --overwrite: its manifest is kept, its shards are deleted
                v.put("shards_present", shardDirectoriesExist(fs, reader.location(), m));
            } catch (IOException | DatasetException e) {
                v.put("error", e.getMessage());
            }
        }
    }

    private static boolean shardDirectoriesExist(org.apache.hadoop.fs.FileSystem fs, org.apache.hadoop.fs.Path dir,
                                                 Manifest m) throws IOException {
        java.util.Set<String> parents = new java.util.TreeSet<>();
        m.shards().forEach(s -> parents.add(s.path().contains("/") ? s.path().substring(0, s.path().lastIndexOf('/')) : ""));
        for (String p : parents) {
            try {
                if (!p.isEmpty() && !fs.exists(new org.apache.hadoop.fs.Path(dir, p))) {
                    return false;
                }
            } catch (IllegalArgumentException e) {
                return false;   // not a valid path: no such shard directory
            }
        }
        return true;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every Java platform", e);
        }
    }
}
