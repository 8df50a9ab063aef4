package ai.chunkwise.tokenize.input;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which files an input names, and the root that document keys are relative to. */
class InputFilesTest {
    @TempDir
    Path tmp;

    private List<String> keys(InputFiles f) {
        URI root = f.root().toUri();
        return f.files().stream().map(FileStatus::getPath).map(p -> InputFiles.relativeKey(root, p.toUri())).toList();
    }

    @Test
    void directoryInputListsItsVisibleFilesRelativeToItself() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("corpus"));
        Files.writeString(dir.resolve("b.txt"), "b");
        Files.writeString(dir.resolve("a.txt"), "a");
        Files.writeString(dir.resolve("_SUCCESS"), "");
        Files.writeString(dir.resolve(".a.txt.crc"), "");
        InputFiles f = InputFiles.resolve(dir.toString(), new Configuration());
        assertEquals(List.of("a.txt", "b.txt"), keys(f));
        assertEquals(2, f.totalBytes());
    }

    @Test
    void fileInputIsKeyedByItsName() throws IOException {
        Path file = Files.writeString(tmp.resolve("one.jsonl"), "{}");
        assertEquals(List.of("one.jsonl"), keys(InputFiles.resolve(file.toString(), new Configuration())));
    }

    @Test
    void globInputIsKeyedBelowItsLastPlainDirectory() throws IOException {
        for (String d : List.of("2024", "2025")) {
            Path dir = Files.createDirectories(tmp.resolve("data").resolve(d));
            Files.writeString(dir.resolve("part.txt"), d);
            Files.writeString(dir.resolve("skip.csv"), d);
        }
        InputFiles f = InputFiles.resolve(tmp.resolve("data") + "/20*/*.txt", new Configuration());
        assertEquals(List.of("2024/part.txt", "2025/part.txt"), keys(f));
    }

    @Test
    void missingInputIsAnErrorNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InputFiles.resolve(tmp.resolve("absent") + "/*.txt", new Configuration()));
        assertTrue(e.getMessage().contains("absent/*.txt"), e.getMessage());
        Path empty = tmp.resolve("empty");
        assertThrows(IllegalArgumentException.class, () -> {
            Files.createDirectories(empty);
            InputFiles.resolve(empty.toString(), new Configuration());
        });
    }
}
