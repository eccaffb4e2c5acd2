//! The `#[task]` attribute of dfab: turns a plain function into a task registered with the runner.
//!
//! Use it through `dfab_core` (`use dfab_core::prelude::*;`), which re-exports it and provides the types the
//! generated code refers to.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Error, Expr, FnArg, GenericArgument, ItemFn, Lit, LitInt, LitStr,
    Pat, PathArguments, ReturnType, Token, Type,
};

/// Registers a function as a dfab task.
///
/// Options: `name = "x"`, `alias = "x"` or `alias = ["x", "y"]` (also `aliases`), `default`,
/// `hosts = ["h1", "h2"]`, `roles = ["web"]`, `runs_once`, `parallel`, `serial`, `pool_size = N`, and
/// `namespace = "ns"` to replace the namespace taken from the module path.
/// Parameters may carry `#[arg(default = "value")]`.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut options = TaskOptions::default();
    let parser = syn::meta::parser(|meta| options.parse_one(meta));
    parse_macro_input!(attr with parser);
    let function = parse_macro_input!(item as ItemFn);
    expand(options, function)
        .unwrap_or_else(Error::into_compile_error)
        .into()
}

/// The options given inside `#[task(...)]`.
#[derive(Default)]
struct TaskOptions {
    name: Option<LitStr>,
    aliases: Vec<LitStr>,
    default: bool,
    hosts: Vec<LitStr>,
    roles: Vec<LitStr>,
    runs_once: bool,
    parallel: bool,
    serial: bool,
    pool_size: Option<LitInt>,
    namespace: Option<LitStr>,
}

impl TaskOptions {
    fn parse_one(&mut self, meta: syn::meta::ParseNestedMeta) -> syn::Result<()> {
        let key = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        match key.as_str() {
            "name" => self.name = Some(meta.value()?.parse()?),
            "alias" | "aliases" => self.aliases.extend(string_list(meta.value()?)?),
            "hosts" | "host" => self.hosts.extend(string_list(meta.value()?)?),
            "roles" | "role" => self.roles.extend(string_list(meta.value()?)?),
            "namespace" => self.namespace = Some(meta.value()?.parse()?),
            "pool_size" => self.pool_size = Some(meta.value()?.parse()?),
            "default" => self.default = true,
            "runs_once" => self.runs_once = true,
            "parallel" => self.parallel = true,
            "serial" => self.serial = true,
            _ => {
                return Err(meta.error(
                    "unknown task option; expected one of: name, alias, aliases, default, hosts, roles, \
                     runs_once, parallel, serial, pool_size, namespace",
                ))
            }
        }
        Ok(())
    }
}

/// Parses `"a"` or `["a", "b"]`.
fn string_list(input: ParseStream) -> syn::Result<Vec<LitStr>> {
    if input.peek(syn::token::Bracket) {
        let content;
        syn::bracketed!(content in input);
        Ok(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect())
    } else {
        Ok(vec![input.parse()?])
    }
}

/// How a parameter receives its value.
enum ParamKind {
    Named {
        ty: Box<Type>,
        default: Option<String>,
    },
    Rest,
    Keywords,
}

/// How a task's return value becomes a `TaskValue`.
enum ReturnKind {
    Unit,
    ResultUnit,
    ResultValue,
}

fn expand(options: TaskOptions, mut function: ItemFn) -> syn::Result<TokenStream2> {
    let sig = &function.sig;
    if let Some(asyncness) = &sig.asyncness {
        return Err(Error::new(
            asyncness.span(),
            "a task cannot be async: tasks run synchronously, like Fabric's",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(Error::new(
            sig.generics.span(),
            "a task cannot be generic: its parameters are converted from command-line strings",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(Error::new(
            variadic.span(),
            "a task cannot be variadic; use an `Args` parameter",
        ));
    }

    let mut params = Vec::new();
    for input in function.sig.inputs.iter_mut() {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                return Err(Error::new(
                    receiver.span(),
                    "a task cannot take `self`: write a free function",
                ))
            }
            FnArg::Typed(typed) => typed,
        };
        let name = match &*typed.pat {
            Pat::Ident(ident) => ident.ident.clone(),
            other => {
                return Err(Error::new(
                    other.span(),
                    "a task parameter must be a plain name",
                ))
            }
        };
        let default = take_default(&mut typed.attrs)?;
        let kind = classify(&typed.ty, default)?;
        params.push((name, kind));
    }
    check_special_params(&params)?;
    let return_kind = classify_return(&function.sig.output)?;

    let fn_name = function.sig.ident.clone();
    let task_name = options
        .name
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_else(|| fn_name.to_string());
    if let Some(name) = options.name.as_ref().filter(|n| n.value().contains('.')) {
        return Err(Error::new(
            name.span(),
            "a task name cannot contain '.': dots separate namespaces",
        ));
    }
    let doc = doc_string(&function.attrs);

    let mut bindings = Vec::new();
    let mut arg_names = Vec::new();
    let mut specs = Vec::new();
    let mut named_index = 0usize;
    // Mixed-site hygiene: the generated names can collide with no parameter (`args`, `bound`, anything).
    let bound = syn::Ident::new("bound", proc_macro2::Span::mixed_site());
    for (position, (name, kind)) in params.iter().enumerate() {
        let var = syn::Ident::new(&format!("param{position}"), proc_macro2::Span::mixed_site());
        let name_str = name.to_string();
        match kind {
            ParamKind::Named { ty, default } => {
                let index = named_index;
                named_index += 1;
                let default_tokens = match default {
                    Some(d) => quote!(::core::option::Option::Some(#d)),
                    None => quote!(::core::option::Option::None),
                };
                bindings.push(quote_spanned! {ty.span()=>
                    let #var = #bound.named::<#ty>(#index)?;
                });
                specs.push(quote_spanned! {ty.span()=>
                    ::dfab_core::task::ParamSpec {
                        name: #name_str,
                        kind: ::dfab_core::task::ParamKind::Named {
                            default: #default_tokens,
                            check: ::dfab_core::task::check_param::<#ty>,
                            show_default: <#ty as ::dfab_core::task::FromArg>::show_default,
                        },
                    }
                });
            }
            ParamKind::Rest => {
                bindings.push(quote!(let #var = #bound.rest();));
                specs.push(quote! {
                    ::dfab_core::task::ParamSpec { name: #name_str, kind: ::dfab_core::task::ParamKind::Rest }
                });
            }
            ParamKind::Keywords => {
                bindings.push(quote!(let #var = #bound.keywords();));
                specs.push(quote! {
                    ::dfab_core::task::ParamSpec { name: #name_str, kind: ::dfab_core::task::ParamKind::Keywords }
                });
            }
        }
        arg_names.push(var);
    }

    let call = quote!(#fn_name(#(#arg_names),*));
    let wrap = match return_kind {
        ReturnKind::Unit => {
            quote!({ #call; ::core::result::Result::Ok(::dfab_core::task::TaskValue::none()) })
        }
        ReturnKind::ResultUnit => quote!(#call
            .map(|()| ::dfab_core::task::TaskValue::none())
            .map_err(::core::convert::Into::into)),
        ReturnKind::ResultValue => quote!(#call
            .map(::dfab_core::task::TaskValue::new)
            .map_err(::core::convert::Into::into)),
    };

    let aliases = &options.aliases;
    let hosts = &options.hosts;
    let roles = &options.roles;
    let namespace = match &options.namespace {
        Some(ns) => quote!(::core::option::Option::Some(#ns)),
        None => quote!(::core::option::Option::None),
    };
    let mode = if options.parallel {
        quote!(::dfab_core::task::ExecMode::Parallel)
    } else if options.serial {
        quote!(::dfab_core::task::ExecMode::Serial)
    } else {
        quote!(::dfab_core::task::ExecMode::Default)
    };
    let pool_size = match &options.pool_size {
        Some(n) => n.to_token_stream(),
        None => quote!(0),
    };
    let is_default = options.default;
    let runs_once = options.runs_once;
    let uses_args = if params.is_empty() {
        quote!(let _ = #bound;)
    } else {
        quote!()
    };

    Ok(quote! {
        #function

        const _: () = {
            fn __dfab_invoke(
                mut #bound: ::dfab_core::task::BoundArgs,
            ) -> ::dfab_core::anyhow::Result<::dfab_core::task::TaskValue> {
                #uses_args
                #(#bindings)*
                #wrap
            }

            ::dfab_core::inventory::submit! {
                ::dfab_core::task::TaskDef {
                    name: #task_name,
                    module_path: ::core::module_path!(),
                    namespace: #namespace,
                    aliases: &[#(#aliases),*],
                    is_default: #is_default,
                    doc: #doc,
                    params: &[#(#specs),*],
                    hosts: &[#(#hosts),*],
                    roles: &[#(#roles),*],
                    runs_once: #runs_once,
                    mode: #mode,
                    pool_size: #pool_size,
                    invoke: __dfab_invoke,
                }
            }
        };
    })
}

/// Removes `#[arg(default = …)]` from a parameter and returns the default as the string a user would type.
fn take_default(attrs: &mut Vec<Attribute>) -> syn::Result<Option<String>> {
    let mut default = None;
    let mut error = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("arg") {
            return true;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                let expr: Expr = meta.value()?.parse()?;
                default = Some(literal_text(&expr)?);
                Ok(())
            } else {
                Err(meta.error("unknown argument option; expected `default = \"value\"`"))
            }
        });
        if let Err(e) = parsed {
            error = Some(e);
        }
        false
    });
    match error {
        Some(e) => Err(e),
        None => Ok(default),
    }
}

/// The text of a literal default: `"x"` → `x`, `5` → `5`, `true` → `true`, `-1` → `-1`.
fn literal_text(expr: &Expr) -> syn::Result<String> {
    match expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) => Ok(s.value()),
            Lit::Int(i) => Ok(i.base10_digits().to_string()),
            Lit::Float(f) => Ok(f.base10_digits().to_string()),
            Lit::Bool(b) => Ok(b.value.to_string()),
            Lit::Char(c) => Ok(c.value().to_string()),
            other => Err(Error::new(
                other.span(),
                "a default must be a string, number, bool or char literal",
            )),
        },
        Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            Ok(format!("-{}", literal_text(&unary.expr)?))
        }
        other => Err(Error::new(
            other.span(),
            "a default must be a literal, written as the user would type it: `default = \"docker0\"`",
        )),
    }
}

fn classify(ty: &Type, default: Option<String>) -> syn::Result<ParamKind> {
    match ty {
        Type::Reference(reference) => Err(Error::new(
            reference.span(),
            "a task parameter must be an owned value (String, PathBuf, …), not a reference",
        )),
        Type::ImplTrait(imp) => Err(Error::new(
            imp.span(),
            "a task cannot be generic: `impl Trait` parameters are not supported",
        )),
        Type::Path(path) => {
            let last = path.path.segments.last().map(|s| s.ident.to_string());
            let kind = match last.as_deref() {
                Some("Args") => ParamKind::Rest,
                Some("Kwargs") => ParamKind::Keywords,
                _ => {
                    return Ok(ParamKind::Named {
                        ty: Box::new(ty.clone()),
                        default,
                    })
                }
            };
            if default.is_some() {
                return Err(Error::new(
                    ty.span(),
                    "`Args` and `Kwargs` parameters cannot have a default",
                ));
            }
            Ok(kind)
        }
        other => Ok(ParamKind::Named {
            ty: Box::new(other.clone()),
            default,
        }),
    }
}

/// At most one `Args` and one `Kwargs` parameter, as in Python's `*args, **kwargs`.
fn check_special_params(params: &[(syn::Ident, ParamKind)]) -> syn::Result<()> {
    let mut seen_rest = false;
    let mut seen_keywords = false;
    for (name, kind) in params {
        let seen = match kind {
            ParamKind::Rest => &mut seen_rest,
            ParamKind::Keywords => &mut seen_keywords,
            ParamKind::Named { .. } => continue,
        };
        if *seen {
            return Err(Error::new(
                name.span(),
                "a task takes at most one `Args` and one `Kwargs` parameter",
            ));
        }
        *seen = true;
    }
    Ok(())
}

fn classify_return(output: &ReturnType) -> syn::Result<ReturnKind> {
    let ty = match output {
        ReturnType::Default => return Ok(ReturnKind::Unit),
        ReturnType::Type(_, ty) => ty,
    };
    if is_unit(ty) {
        return Ok(ReturnKind::Unit);
    }
    if let Type::Path(path) = &**ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                if let PathArguments::AngleBracketed(args) = &last.arguments {
                    if let Some(GenericArgument::Type(ok)) = args.args.first() {
                        return Ok(if is_unit(ok) {
                            ReturnKind::ResultUnit
                        } else {
                            ReturnKind::ResultValue
                        });
                    }
                }
            }
        }
    }
    Err(Error::new(
        ty.span(),
        "a task returns `()` or `anyhow::Result<T>` where `T: Display`",
    ))
}

fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// The doc comment as one string, each line with the single space rustdoc puts after `///` removed.
fn doc_string(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .flat_map(|chunk| chunk.split('\n').map(str::to_owned).collect::<Vec<_>>())
        .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
        .collect();
    lines.join("\n")
}
