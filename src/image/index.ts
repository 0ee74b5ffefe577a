/** Root filesystems: CPIO (Kiln's own writer and reader), ext4/EROFS, sources. */
export * from "./cpio/index.js";
