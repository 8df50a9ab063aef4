package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.cli.PipelineCli;
import ai.chunkwise.pipeline.format.Manifest;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 20, item 15: a manifest.json whose recorded SHA-256 was edited is blamed, not the intact shard; a shard
 * that really changed is still blamed. Checked where users meet it: {@code inspect}.
 */
class ManifestRecordTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private String inspectError(Path dataset) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PipelineCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true),
                "inspect", dataset.toString());
        assertEquals(PipelineCli.EXIT_BAD_DATASET, code);
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path dataset() throws Exception {
        Path in = tmp.resolve("in.txt");
        Files.write(in, List.of("one document", "another document", "a third document"));
        Path out = tmp.resolve("out");
        TestJobs.run(TestJobs.bytesJob(in, "lines", out));
        return out;
    }

    private static void setSha256(Path out, String sha) throws Exception {
        ObjectNode m = (ObjectNode) JSON.readTree(out.resolve(Manifest.FILE_NAME).toFile());
        ((ObjectNode) m.get("shards").get(0)).put("sha256", sha);
        Files.writeString(out.resolve(Manifest.FILE_NAME), m.toString());
    }

    @Test
    void anEditedSha256BlamesTheManifestAndAChangedShardBlamesTheShard() throws Exception {
        Path out = dataset();
        String shard = JSON.readTree(out.resolve(Manifest.FILE_NAME).toFile()).get("shards").get(0).get("path").asText();
        String published = JSON.readTree(out.resolve(Manifest.FILE_NAME).toFile()).get("shards").get(0).get("sha256").asText();

        setSha256(out, "0".repeat(64));   // a well-formed but wrong record
        String e = inspectError(out);
        assertTrue(e.contains(out.resolve(Manifest.FILE_NAME) + " was edited: it gives shard " + shard + " the SHA-256 "
                + "0".repeat(64) + ", but the shard matches the " + published + " recorded when its version was "
                + "published (versions/v0001.json); the shard is intact"), e);
        assertFalse(e.contains("the file is corrupt"), e);

        setSha256(out, "not-a-hash");   // not a SHA-256 at all
        e = inspectError(out);
        assertTrue(e.contains("shard " + shard + " is listed with sha256 'not-a-hash', which is not a SHA-256 (64 hex "
                + "digits); the manifest was edited or is damaged, not the shard"), e);

        setSha256(out, published);   // the record restored; now the shard itself changes
        try (RandomAccessFile f = new RandomAccessFile(out.resolve(shard).toFile(), "rw")) {
            f.seek(f.length() / 2);
            int b = f.read();
            f.seek(f.length() / 2);
            f.write(b ^ 1);
        }
        e = inspectError(out);
        assertTrue(e.contains("shard " + out.resolve(shard) + " fails its checksum") && e.contains("the file is corrupt"), e);
    }
}
