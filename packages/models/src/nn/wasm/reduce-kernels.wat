;; The gradient sum of data-parallel CPU training (parallel/exchange.ts), wasm SIMD, on a *shared* memory: unlike
;; the other modules here it does not run on the tfjs-backend-wasm heap but on the exchange buffer every worker
;; thread maps (a WebAssembly.Memory created with shared: true, whose buffer is a SharedArrayBuffer). Built into
;; reduce-kernels.wasm.ts by `npm run build:wasm -w @dapple/models`.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; dst[i] += src[i] for i < n (byte addresses): four values per step, then the last n % 4 one by one. The same
  ;; float32 additions as a typed-array loop, about ten times faster (bench/results/cpu-parallel-*.jsonl).
  (func (export "addInto") (param $dst i32) (param $src i32) (param $n i32)
    (local $off i32) (local $end i32) (local $end16 i32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end16 (i32.and (local.get $end) (i32.const -16)))
    (local.set $off (i32.const 0))
    (block $simdDone
      (br_if $simdDone (i32.eqz (local.get $end16)))
      (loop $l
        (v128.store (i32.add (local.get $dst) (local.get $off))
          (f32x4.add
            (v128.load (i32.add (local.get $dst) (local.get $off)))
            (v128.load (i32.add (local.get $src) (local.get $off)))))
        (local.set $off (i32.add (local.get $off) (i32.const 16)))
        (br_if $l (i32.lt_u (local.get $off) (local.get $end16)))))
    (block $tailDone
      (br_if $tailDone (i32.ge_u (local.get $off) (local.get $end)))
      (loop $t
        (f32.store (i32.add (local.get $dst) (local.get $off))
          (f32.add
            (f32.load (i32.add (local.get $dst) (local.get $off)))
            (f32.load (i32.add (local.get $src) (local.get $off)))))
        (local.set $off (i32.add (local.get $off) (i32.const 4)))
        (br_if $t (i32.lt_u (local.get $off) (local.get $end))))))
)
