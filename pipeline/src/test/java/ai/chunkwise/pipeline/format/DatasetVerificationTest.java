package ai.chunkwise.pipeline.format;

import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.pipeline.packing.PackingPolicy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every way a dataset can be incomplete or damaged fails at open with a message naming the file. */
class DatasetVerificationTest {

    @TempDir
    Path dir;
    Manifest manifest;
    Path shard0;

    @BeforeEach
    void writeDataset() {
        List<PackedSequence> rows = TestDatasets.rows(PackingPolicy.CONCAT, 30, 11);
        manifest = TestDatasets.write(dir, rows, TestDatasets.header(PackingPolicy.CONCAT), 5, 2);
        shard0 = dir.resolve(manifest.shards().get(0).path());
        DatasetReader.open(dir).close(); // sanity: the untouched dataset opens
    }

    private DatasetException openFails(String... expectedFragments) {
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetReader.open(dir).close());
        for (String f : expectedFragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
        }
        return e;
    }

    private void rewriteManifest(Manifest m) throws IOException {
        Files.writeString(dir.resolve(Manifest.FILE_NAME), m.toJson());
    }

    private Manifest withShards(List<ShardEntry> shards, long sequences, long tokens) {
        DatasetCounts c = manifest.counts();
        return new Manifest(manifest.formatVersion(), manifest.createdBy(), manifest.header(), manifest.config(),
                new DatasetCounts(c.documentsRead(), c.documentsSkipped(), tokens, c.paddingTokens(), sequences), shards);
    }

    @Test
    void flippedByteFailsTheChecksum() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(shard0.toFile(), "rw")) {
            long pos = f.length() / 2;
            f.seek(pos);
            int b = f.read();
            f.seek(pos);
            f.write(b ^ 0x01);
        }
        openFails(shard0.toString(), "checksum", "re-run");
    }

    @Test
    void truncatedShardIsNamed() throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(shard0.toFile(), "rw")) {
            f.setLength(f.length() - 100);
        }
        openFails(shard0.toString(), "truncated");
        // size is checked even when checksums are skipped
        assertThrows(DatasetException.class, () -> DatasetReader.open(dir, false).close());
    }

    @Test
    void extraBytesAreNamed() throws Exception {
        Files.write(shard0, new byte[]{1, 2, 3}, StandardOpenOption.APPEND);
        openFails(shard0.toString(), "extra bytes");
    }

    @Test
    void missingManifestMeansTheJobDidNotFinish() throws Exception {
        Files.delete(dir.resolve(Manifest.FILE_NAME));
        openFails("is not a dataset (no manifest.json)", "tokenize-job did not finish", "Re-run the same tokenize-job");
    }

    @Test
    void missingDirectoryDoesNotExist() {
        DatasetException e = assertThrows(DatasetException.class, () -> DatasetReader.open(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void shardPathEscapingTheDirectoryIsRejected() throws Exception {
        ShardEntry first = manifest.shards().get(0);
        Files.copy(shard0, dir.getParent().resolve("outside.arrow"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<ShardEntry> shards = new ArrayList<>(manifest.shards());
        shards.set(0, new ShardEntry("../outside.arrow", first.rows(), first.tokens(), first.bytes(), first.sha256()));
        rewriteManifest(withShards(shards, manifest.counts().sequences(), manifest.counts().tokens()));
        openFails("../outside.arrow", "leaves the dataset directory");

        shards.set(0, new ShardEntry("sub/../../outside.arrow", first.rows(), first.tokens(), first.bytes(), first.sha256()));
        rewriteManifest(withShards(shards, manifest.counts().sequences(), manifest.counts().tokens()));
        openFails("leaves the dataset directory");

        shards.set(0, new ShardEntry(shard0.toAbsolutePath().toString(), first.rows(), first.tokens(), first.bytes(), first.sha256()));
        rewriteManifest(withShards(shards, manifest.counts().sequences(), manifest.counts().tokens()));
        openFails("absolute");
    }

    @Test
    void manifestListingAMissingShardIsIncomplete() throws Exception {
        Path last = dir.resolve(manifest.shards().get(manifest.shards().size() - 1).path());
        Files.delete(last);
        openFails(last.toString(), "missing", "incomplete");
    }

    @Test
    void shardFromAnotherDatasetIsRejectedEvenWithAMatchingChecksum(@TempDir Path other) throws Exception {
        // same rows, different packing name in the header: the bytes differ only in schema metadata
        Manifest foreign = TestDatasets.write(other, TestDatasets.rows(PackingPolicy.CONCAT, 30, 11),
                TestDatasets.header(PackingPolicy.BFD), 5, 2);
        ShardEntry f = foreign.shards().get(0);
        Files.copy(other.resolve(f.path()), shard0, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        List<ShardEntry> shards = new ArrayList<>(manifest.shards());
        shards.set(0, new ShardEntry(manifest.shards().get(0).path(), f.rows(), f.tokens(), f.bytes(), f.sha256()));
        rewriteManifest(withShards(shards, manifest.counts().sequences(), manifest.counts().tokens()));
        openFails(shard0.toString(), "another dataset");
    }

    @Test
    void countsThatDisagreeWithTheShardsAreRejected() throws Exception {
        rewriteManifest(withShards(manifest.shards(), manifest.counts().sequences() + 1, manifest.counts().tokens()));
        openFails("manifest counts");
    }

    @Test
    void rowCountMismatchIsFoundWhileStreaming() throws Exception {
        List<ShardEntry> shards = new ArrayList<>(manifest.shards());
        ShardEntry e = shards.get(0);
        shards.set(0, new ShardEntry(e.path(), e.rows() + 1, e.tokens(), e.bytes(), e.sha256()));
        rewriteManifest(withShards(shards, manifest.counts().sequences() + 1, manifest.counts().tokens()));
        try (DatasetReader r = DatasetReader.open(dir)) {
            Iterator<PackedSequence> it = r.sequences();
            DatasetException ex = assertThrows(DatasetException.class, () -> {
                while (it.hasNext()) {
                    it.next();
                }
            });
            assertTrue(ex.getMessage().contains(shard0.toString()) && ex.getMessage().contains("rows"), ex.getMessage());
        }
    }

    @Test
    void unsupportedFormatVersionIsExplained() throws Exception {
        String json = Files.readString(dir.resolve(Manifest.FILE_NAME)).replaceFirst("\"format_version\" : 1", "\"format_version\" : 99");
        Files.writeString(dir.resolve(Manifest.FILE_NAME), json);
        openFails("format version 99");
    }

    @Test
    void notAnArrowFileIsNamed() throws Exception {
        byte[] junk = "this is not an arrow file at all".getBytes();
        Files.write(shard0, junk);
        List<ShardEntry> shards = new ArrayList<>(manifest.shards());
        ShardEntry e = shards.get(0);
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(junk));
        shards.set(0, new ShardEntry(e.path(), e.rows(), e.tokens(), junk.length, sha));
        rewriteManifest(withShards(shards, manifest.counts().sequences(), manifest.counts().tokens()));
        openFails(shard0.toString(), "Arrow");
    }

    @Test
    void readerStreamsRowsInManifestOrder() {
        try (DatasetReader r = DatasetReader.open(dir)) {
            long expected = 0;
            for (Iterator<PackedSequence> it = r.sequences(); it.hasNext(); ) {
                assertEquals(expected++, it.next().seqId());
            }
            assertEquals(manifest.counts().sequences(), expected);
        }
    }
}
