;; Strided row copies for the wasm backend's Slice, SplitV and Concat (nn/wasm-kernels.ts), on the
;; tfjs-backend-wasm heap: the UNet's skip connections join and split channels, one short row per pixel, which a
;; JS loop copied element by element. Built into copy-kernels.wasm.ts by `npm run build:wasm -w @dapple/models`.
(module
  (import "env" "memory" (memory 1))

  ;; For r < count: copy `run` bytes from src + r·srcStride to dst + r·dstStride (byte addresses; the regions
  ;; must not overlap). 64 bytes at a time in four vectors, then 16, then 4, then single bytes.
  (func (export "copyRows") (param $src i32) (param $srcStride i32) (param $dst i32) (param $dstStride i32)
    (param $run i32) (param $count i32)
    (local $r i32) (local $s i32) (local $d i32) (local $end i32) (local $end64 i32) (local $end16 i32) (local $end4 i32)
    (local.set $r (i32.const 0))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $count)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $srcStride))))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $r) (local.get $dstStride))))
        (local.set $end (i32.add (local.get $s) (local.get $run)))
        (local.set $end64 (i32.add (local.get $s) (i32.and (local.get $run) (i32.const -64))))
        (local.set $end16 (i32.add (local.get $s) (i32.and (local.get $run) (i32.const -16))))
        (local.set $end4 (i32.add (local.get $s) (i32.and (local.get $run) (i32.const -4))))
        (block $d64
          (loop $l64
            (br_if $d64 (i32.ge_u (local.get $s) (local.get $end64)))
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
            (v128.store offset=32 (local.get $d) (v128.load offset=32 (local.get $s)))
            (v128.store offset=48 (local.get $d) (v128.load offset=48 (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 64)))
            (local.set $d (i32.add (local.get $d) (i32.const 64)))
            (br $l64)))
        (block $d16
          (loop $l16
            (br_if $d16 (i32.ge_u (local.get $s) (local.get $end16)))
            (v128.store (local.get $d) (v128.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 16)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $l16)))
        (block $d4
          (loop $l4
            (br_if $d4 (i32.ge_u (local.get $s) (local.get $end4)))
            (i32.store (local.get $d) (i32.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 4)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $l4)))
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $s) (local.get $end)))
            (i32.store8 (local.get $d) (i32.load8_u (local.get $s)))
            (local.set $s (i32.add (local.get $s) (i32.const 1)))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $l1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows)))
  )
)
