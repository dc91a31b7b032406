;; Channel sums for the wasm backend (nn/wasm-sum.ts), on the tfjs-backend-wasm heap: the bias gradients of convs
;; and dense layers and the per-sample spatial sums of the block ops, one kernel call each where TF.js needed an
;; average pool, a cast, a scale, a product with ones and reshapes (4–6 ops, each with its dispatch cost).
;; Built into sum-kernels.wasm.ts by `npm run build:wasm -w @dapple/models`.
(module
  (import "env" "memory" (memory 1))

  ;; out[o, j] = Σ_r x[o, r, j] for o < outer, r < rows, j < c (x [outer, rows, c], out [outer, c], float32, byte
  ;; addresses). Each output is summed in row order r = 0, 1, … (a plain float32 sum). Sixteen channels (one
  ;; 64-byte line) at a time in four vector accumulators, so each row's line is read once; then fours; then
  ;; the last c % 4 one by one.
  (func (export "sumRows") (param $x i32) (param $out i32) (param $outer i32) (param $rows i32) (param $c i32)
    (local $o i32) (local $j i32) (local $r i32) (local $p i32) (local $stride i32) (local $base i32) (local $ob i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f32)
    (local.set $stride (i32.shl (local.get $c) (i32.const 2)))
    (local.set $o (i32.const 0))
    (block $outerDone
      (loop $outerLoop
        (br_if $outerDone (i32.ge_u (local.get $o) (local.get $outer)))
        (local.set $base (i32.add (local.get $x) (i32.mul (i32.mul (local.get $o) (local.get $rows)) (local.get $stride))))
        (local.set $ob (i32.add (local.get $out) (i32.mul (local.get $o) (local.get $stride))))
        (local.set $j (i32.const 0))
        ;; sixteen channels at a time
        (block $d16
          (loop $l16
            (br_if $d16 (i32.gt_u (i32.add (local.get $j) (i32.const 16)) (local.get $c)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $a1 (v128.const i32x4 0 0 0 0))
            (local.set $a2 (v128.const i32x4 0 0 0 0))
            (local.set $a3 (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $r (i32.const 0))
            (block $rd
              (loop $rl
                (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
                (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
                (local.set $a1 (f32x4.add (local.get $a1) (v128.load offset=16 (local.get $p))))
                (local.set $a2 (f32x4.add (local.get $a2) (v128.load offset=32 (local.get $p))))
                (local.set $a3 (f32x4.add (local.get $a3) (v128.load offset=48 (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rl)))
            (local.set $p (i32.add (local.get $ob) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (local.get $p) (local.get $a0))
            (v128.store offset=16 (local.get $p) (local.get $a1))
            (v128.store offset=32 (local.get $p) (local.get $a2))
            (v128.store offset=48 (local.get $p) (local.get $a3))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $l16)))
        ;; four at a time
        (block $d4
          (loop $l4
            (br_if $d4 (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $c)))
            (local.set $a0 (v128.const i32x4 0 0 0 0))
            (local.set $p (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $r (i32.const 0))
            (block $rd4
              (loop $rl4
                (br_if $rd4 (i32.ge_u (local.get $r) (local.get $rows)))
                (local.set $a0 (f32x4.add (local.get $a0) (v128.load (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rl4)))
            (v128.store (i32.add (local.get $ob) (i32.shl (local.get $j) (i32.const 2))) (local.get $a0))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        ;; the rest one by one
        (block $d1
          (loop $l1
            (br_if $d1 (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $s (f32.const 0))
            (local.set $p (i32.add (local.get $base) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $r (i32.const 0))
            (block $rd1
              (loop $rl1
                (br_if $rd1 (i32.ge_u (local.get $r) (local.get $rows)))
                (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
                (local.set $p (i32.add (local.get $p) (local.get $stride)))
                (local.set $r (i32.add (local.get $r) (i32.const 1)))
                (br $rl1)))
            (f32.store (i32.add (local.get $ob) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l1)))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (br $outerLoop)))
  )
)
